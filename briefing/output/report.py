"""Evaluation reports on disk: report.json, and report.html with matplotlib plots embedded as PNG."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from briefing.output.files import write_atomic
from briefing.output.render import html_page


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def metric_bars(aggregate: dict) -> str | None:
    """Bars of the 0–1 metrics with their 95% intervals, as base64 PNG."""
    names = [m for m in aggregate if m not in ("tokens", "latency_s")]  # the 0–1 rates
    if not names:
        return None
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 0.45 * len(names) + 1))
    means = [aggregate[m]["mean"] for m in names]
    errors = [[aggregate[m]["mean"] - aggregate[m]["low"] for m in names], [aggregate[m]["high"] - aggregate[m]["mean"] for m in names]]
    axis.barh(names, means, xerr=errors, color="#4c72b0", capsize=3)
    axis.set_xlim(0, 1)
    axis.invert_yaxis()
    axis.set_xlabel("mean over cases, 95% bootstrap interval")
    encoded = _png(figure)
    plt.close(figure)
    return encoded


def roc_curves(judges: list[dict]) -> str | None:
    """ROC curves of the judges (supported as the positive class), as base64 PNG."""
    curves = [j for j in judges if j.get("roc")]
    if not curves:
        return None
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(5, 5))
    for judge in curves:
        fpr, tpr = zip(*judge["roc"])
        axis.plot(fpr, tpr, label=f"{judge['judge']} (AUC {judge['auc']:.3f})")
    axis.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axis.set_xlabel("false positive rate (unsupported judged supported)")
    axis.set_ylabel("true positive rate")
    axis.legend(loc="lower right", fontsize=8)
    encoded = _png(figure)
    plt.close(figure)
    return encoded


def _image(encoded: str | None, alt: str) -> str:
    return f'<p><img alt="{alt}" src="data:image/png;base64,{encoded}"></p>' if encoded else ""


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table border="1" cellpadding="4" cellspacing="0"><tr>{head}</tr>{body}</table>'


def write_eval_report(report: dict, out: Path, judges: list[dict] | None = None) -> list[Path]:
    """report.json (everything) and report.html (metrics, plots, per-case table)."""
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "report.json", json.dumps(report, indent=2, default=str) + "\n")
    aggregate = report["aggregate"]
    rows = [[m, f"{v['mean']:.3f}", f"[{v['low']:.3f}, {v['high']:.3f}]", str(v["n"])] for m, v in aggregate.items()]
    shown = ("citation_recall", "key_fact_recall", "abstention_accuracy")
    cases = [[c["suite"], c["id"], c["kind"], *(_fmt(c["metrics"].get(m)) for m in shown),
              " ".join(f"{k}={v}" for k, v in c["actions"].items()), c.get("error") or ""]
             for s in report["suites"] for c in s["cases"]]
    skipped = "".join(f"<p>Suite {html.escape(s['suite'])} skipped: {html.escape(s['skipped'])}</p>"
                      for s in report["suites"] if s.get("skipped"))
    body = (
        f"<h1>Faithfulness evaluation</h1><p>provider={html.escape(report['provider'])} · model={html.escape(report['model'])}"
        f" · judge={html.escape(report['judge'])} · scored by {html.escape(str(report.get('scoring_judge')))}"
        f" · commit={html.escape(str(report['commit']))} · {html.escape(str(report['created_at']))}</p>"
        f"{skipped}<h2>Aggregate</h2>{_table(['metric', 'mean', '95% interval', 'cases'], rows)}"
        f"{_image(metric_bars(aggregate), 'metric bars')}"
        f"{'<h2>Judges</h2>' + _image(roc_curves(judges), 'ROC curves') if judges else ''}"
        f"<h2>Cases</h2>{_table(['suite', 'case', 'kind', 'citation recall', 'key-fact recall', 'abstention', 'actions', 'error'], cases)}"
    )
    write_atomic(out / "report.html", html_page("Faithfulness evaluation", body))
    return [out / "report.json", out / "report.html"]


def write_judge_report(judges: list[dict], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "report.json", json.dumps({"judges": judges}, indent=2) + "\n")
    rows = [[j["judge"], str(j["n"]), _fmt(j["threshold"]), _fmt(j["balanced_accuracy"]),
             ", ".join(f"{k} {v:.3f}" for k, v in j["per_dataset"].items()), _fmt(j["f1"]), _fmt(j["auc"])] for j in judges]
    body = (f"<h1>Support judges against human labels</h1>"
            f"{_table(['judge', 'n', 'threshold', 'balanced accuracy', 'per dataset', 'F1 (unsupported)', 'AUC'], rows)}"
            f"{_image(roc_curves(judges), 'ROC curves')}")
    write_atomic(out / "report.html", html_page("Support judges", body))
    return [out / "report.json", out / "report.html"]


def _fmt(value) -> str:
    return "" if value is None else f"{value:.3f}"
