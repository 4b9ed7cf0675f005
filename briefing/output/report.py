"""Evaluation reports on disk: report.json, and report.html with matplotlib plots embedded as PNG and a
section per case saying what it missed and what verification did to each sentence (no script)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from briefing.output.files import write_atomic
from briefing.output.render import html_page

_REPORT_CSS = """
body{max-width:72rem}table{border-collapse:collapse;font:14px/1.4 system-ui,sans-serif}td{vertical-align:top}
section{margin-top:2rem;border-top:2px solid #ddd}p.missed{color:#b00020}details{color:inherit;margin-top:.8rem}
"""
"""Evaluation reports hold wide tables of sentences: a wider page, compact tables, misses in red."""


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
    """A table of plain-text cells (escaped here)."""
    return _html_table(header, [[html.escape(c) for c in row] for row in rows])


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    """A table of cells that are HTML already (each piece of text in them escaped by the caller)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table border="1" cellpadding="4" cellspacing="0"><tr>{head}</tr>{body}</table>'


def write_eval_report(report: dict, out: Path, judges: list[dict] | None = None) -> list[Path]:
    """report.json (everything) and report.html: metrics, plots, the per-case table, and a section
    per case saying what it missed, what it asked, its expected facts found or missed, and its
    sentences with what verification did to each and why (``_case_section``)."""
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "report.json", json.dumps(report, indent=2, default=str) + "\n")
    aggregate = report["aggregate"]
    rows = [[m, f"{v['mean']:.3f}", f"[{v['low']:.3f}, {v['high']:.3f}]", str(v["n"])] for m, v in aggregate.items()]
    cases = [c for s in report["suites"] for c in s["cases"]]
    skipped = "".join(f"<p>Suite {html.escape(s['suite'])} skipped: {html.escape(s['skipped'])}</p>"
                      for s in report["suites"] if s.get("skipped"))
    body = (
        f"<h1>Faithfulness evaluation</h1><p>provider={html.escape(report['provider'])} · model={html.escape(report['model'])}"
        f" · judge={html.escape(report['judge'])} · scored by {html.escape(str(report.get('scoring_judge')))}"
        f" · commit={html.escape(str(report['commit']))} · {html.escape(str(report['created_at']))}</p>"
        f"{skipped}<h2>Aggregate</h2>{_table(['metric', 'mean', '95% interval', 'cases'], rows)}"
        f"{_image(metric_bars(aggregate), 'metric bars')}"
        f"{'<h2>Judges</h2>' + _image(roc_curves(judges), 'ROC curves') if judges else ''}"
        f"<h2>Cases</h2>{_html_table(_CASE_COLUMNS, [_case_row(c) for c in cases])}"
        f"{'<h2>Each case</h2>' if cases else ''}{''.join(_case_section(c) for c in cases)}"
    )
    write_atomic(out / "report.html", html_page("Faithfulness evaluation", body, _REPORT_CSS))
    return [out / "report.json", out / "report.html"]


# --- one case of an evaluation report ------------------------------------------------------------
# Each reads a case of report.json (``CaseResult`` dumped as JSON) and returns HTML; the fields a
# report written before the case detail lacks read as empty.

_CASE_COLUMNS = ["suite", "case", "kind", "citation recall", "key-fact recall", "abstention", "actions", "missed", "error"]
_SHOWN_METRICS = ("citation_recall", "key_fact_recall", "abstention_accuracy")
_OPEN_UNDER = 10
"""A list of sentences longer than this starts folded."""


def _case_row(case: dict) -> list[str]:
    """The case's row of the overview table, its id linking to its section."""
    esc = html.escape
    return [esc(case["suite"]), f'<a href="#{_anchor(case)}">{esc(case["id"])}</a>', esc(case["kind"]),
            *(_fmt(case["metrics"].get(m)) for m in _SHOWN_METRICS),
            esc(" ".join(f"{k}={v}" for k, v in case["actions"].items())), str(len(case.get("missed") or [])),
            esc(case.get("error") or "")]


def _anchor(case: dict) -> str:
    raw = f"case-{case['suite']}-{case['id']}"
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in raw)


def _case_section(case: dict) -> str:
    """The case's section: what it missed (one line), what it asked, its figures, its expected
    facts, the forbidden patterns that appeared, the sentences shown and what verification changed."""
    title = f"{case['suite']} / {case['id']} · {case['kind']}"
    parts = [_missed_line(case), _request_line(case), _abstention_line(case), _figures_line(case),
             _facts_table(case), _forbidden_line(case), _shown_sentences(case), _changed_sentences(case)]
    return f'<section id="{_anchor(case)}"><h3>{html.escape(title)}</h3>{"".join(parts)}</section>'


def _missed_line(case: dict) -> str:
    missed = case.get("missed") or []
    if not missed:
        return "<p>missed: nothing</p>"
    return f'<p class="missed"><strong>missed:</strong> {html.escape("; ".join(missed))}</p>'


def _request_line(case: dict) -> str:
    """``query: “…” · window: since … until … · publishers: …``"""
    scope = [f"query: “{case.get('query', '')}”"]
    if case.get("since") or case.get("until"):
        scope.append("window: " + " ".join(f"{end} {case[end]}" for end in ("since", "until") if case.get(end)))
    if case.get("publishers"):
        scope.append("publishers: " + ", ".join(case["publishers"]))
    return f"<p>{html.escape(' · '.join(scope))}</p>"


def _abstention_line(case: dict) -> str:
    """Ask cases: whether it abstained, whether it should have, and the reason it gave."""
    should = case.get("should_abstain")
    if should is None or case.get("error"):
        return ""
    did = bool(case.get("abstained"))
    line = f"abstained: {_yes(did)} · should have: {_yes(should)} · {'right' if did == should else 'WRONG'}"
    if did and case.get("abstain_reason"):
        line += f" ({case['abstain_reason']})"
    return f"<p>{html.escape(line)}</p>"


def _figures_line(case: dict) -> str:
    """Every metric the case measured, and verification's actions."""
    metrics = " · ".join(f"{name} {value:.3f}" for name, value in case["metrics"].items() if value is not None)
    actions = ", ".join(f"{k} {v}" for k, v in case["actions"].items())
    figures = [f"metrics: {metrics}" if metrics else "", f"verification: {actions}" if actions else ""]
    return "".join(f"<p>{html.escape(f)}</p>" for f in figures if f)


def _facts_table(case: dict) -> str:
    """Expected facts (must_include): each with the articles expected to state it, found or MISSED."""
    facts = case.get("facts") or []
    if not facts:
        return ""
    rows = [[html.escape(f["fact"]), html.escape(", ".join(f["articles"]) or "any article"), _fact_outcome(f)] for f in facts]
    return f"<h4>Expected facts</h4>{_html_table(['fact', 'expected in', 'outcome'], rows)}"


def _fact_outcome(fact: dict) -> str:
    if fact["found"]:
        return f"found: “{html.escape(fact.get('stated_by') or '')}”"
    notes = []
    if fact.get("unknown_articles"):
        notes.append(f"not in the corpus: {', '.join(fact['unknown_articles'])}")
    if fact.get("stated_elsewhere"):
        notes.append(f"stated citing other articles: “{fact['stated_elsewhere']}”")
    return "<strong>MISSED</strong>" + "".join(f"<br>{html.escape(n)}" for n in notes)


def _forbidden_line(case: dict) -> str:
    found = case.get("forbidden_found") or []
    if not found:
        return ""
    return f"<p><strong>must_not_include appeared:</strong> {html.escape(', '.join(repr(p) for p in found))}</p>"


def _shown_sentences(case: dict) -> str:
    """The sentences a reader saw, with the verifier's verdict and the citations behind it."""
    if case.get("error"):
        return ""
    shown = [s for s in case.get("sentences") or [] if s["shown"]]
    rows = [[_action_cell(s), _sentence_cell(s), _verdict_cell(s["verdict"]), _citations_cell(s["citations"])]
            for s in shown]
    return _folded(f"Shown sentences ({len(shown)})", ["action", "sentence", "verdict", "citations"], rows)


def _changed_sentences(case: dict) -> str:
    """What verification did not keep as drafted: repaired, replaced (the draft, then what is shown
    instead) and dropped (the draft, and why)."""
    if case.get("error"):
        return ""
    changed = [s for s in case.get("sentences") or [] if s["action"] != "kept"]
    rows = [[_action_cell(s), html.escape(s.get("original") or s["text"]),
             html.escape(s["text"]) if s["shown"] else "(not shown)", _verdict_cell(s["verdict"]), _citations_cell(s["citations"])]
            for s in changed]
    return _folded(f"Changed by verification ({len(changed)})", ["action", "drafted", "shown instead", "verdict", "citations"], rows)


def _action_cell(sentence: dict) -> str:
    """The action, and the section the sentence was drafted for (``headline`` for the headline)."""
    section = sentence.get("section")
    return html.escape(sentence["action"]) + (f"<br><small>{html.escape(section)}</small>" if section else "")


def _sentence_cell(sentence: dict) -> str:
    text = html.escape(sentence["text"])
    original = sentence.get("original")
    return text + (f"<br><small>drafted: “{html.escape(original)}”</small>" if original and original != sentence["text"] else "")


def _verdict_cell(verdict: dict) -> str:
    """``supported, score 0.93 (judge): reason``"""
    judged = f"{'supported' if verdict['supported'] else 'unsupported'}, score {verdict['score']:.2f} ({verdict['judge']})"
    return html.escape(judged + (f": {verdict['reason']}" if verdict.get("reason") else ""))


def _citations_cell(citations: list[dict]) -> str:
    """One line per citation: ``key: “quote”``, and why it is not valid when it is not."""
    lines = [f"{c['key']}: “{c['quote']}”" + ("" if c.get("valid", True) else f" (invalid: {c.get('problem') or 'no reason'})")
             for c in citations]
    return "<br>".join(html.escape(line) for line in lines) or "(none)"


def _folded(summary: str, header: list[str], rows: list[list[str]]) -> str:
    """A table under a <details> summary, open when short; a line when there are no rows."""
    if not rows:
        return f"<p>{html.escape(summary)}</p>"
    opened = " open" if len(rows) <= _OPEN_UNDER else ""
    return f"<details{opened}><summary>{html.escape(summary)}</summary>{_html_table(header, rows)}</details>"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


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
