"""Judge meta-evaluation: metrics on hand-computed examples, calibration rules, the CLI."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from briefing.answer.judge import LearnedJudge
from briefing.cli import app
from briefing.errors import ConfigError, InputError
from briefing.evaluate.judges import (
    SupportRow,
    balanced_accuracy,
    best_threshold,
    cell_weights,
    check_not_same,
    evaluate_judges,
    load_rows,
    roc_auc,
    unsupported_detection,
)


def test_balanced_accuracy_by_hand():
    labels = np.array([1, 1, 1, 1, 0, 0])
    supported = np.array([True, True, True, False, False, True])
    # TPR on supported rows = 3/4, TNR on unsupported rows = 1/2 -> 0.625
    assert balanced_accuracy(labels, supported) == pytest.approx(0.625)
    assert balanced_accuracy(np.array([0, 0]), np.array([False, True])) == pytest.approx(0.5)  # one class only


def test_unsupported_detection_by_hand():
    labels = np.array([1, 1, 0, 0, 0])
    supported = np.array([True, False, False, False, True])
    # flagged unsupported: rows 1, 2, 3; truly unsupported among them: 2, 3 -> P = 2/3; R = 2/3
    precision, recall, f1 = unsupported_detection(labels, supported)
    assert (precision, recall, f1) == pytest.approx((2 / 3, 2 / 3, 2 / 3))


def test_roc_auc_by_hand_with_ties():
    labels = np.array([1, 1, 0, 0])
    scores = np.array([0.9, 0.4, 0.4, 0.1])
    # pairs (pos, neg): (0.9,0.4) win, (0.9,0.1) win, (0.4,0.4) tie, (0.4,0.1) win -> 3.5 / 4
    assert roc_auc(labels, scores) == pytest.approx(0.875)
    assert np.isnan(roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))


def test_best_threshold_maximizes_the_mean_per_group_balanced_accuracy():
    labels = np.array([1, 1, 0, 0, 1, 0])
    scores = np.array([0.8, 0.7, 0.3, 0.6, 0.9, 0.2])
    groups = np.array(["a", "a", "a", "a", "b", "b"])
    assert best_threshold(labels, scores, groups) == pytest.approx(0.7)


def test_cell_weights_give_each_dataset_and_label_the_same_weight():
    rows = [SupportRow(claim="c", source="s", label=label, dataset=ds) for ds, label in
            [("a", 1)] * 6 + [("a", 0)] * 2 + [("b", 0)] * 3 + [("b", 1)]]
    weights = cell_weights(rows)
    totals = {}
    for row, w in zip(rows, weights):
        totals[(row.dataset, row.label)] = totals.get((row.dataset, row.label), 0) + w
    assert len(set(np.round(list(totals.values()), 9))) == 1


def test_rows_with_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"claim": "a", "source": "b", "label": 1}\n{"claim": "a", "source": "b"}\n')
    with pytest.raises(InputError, match=r"rows\.jsonl:2: label: Field required"):
        load_rows(path)
    path.write_text('{"claim": "a", "source": "b", "label": 3}\n')
    with pytest.raises(InputError, match=r"rows\.jsonl:1: label: Input should be less than or equal to 1"):
        load_rows(path)


def test_never_calibrates_on_the_file_being_scored(tmp_path):
    path = tmp_path / "dev.jsonl"
    path.write_text("")
    with pytest.raises(ConfigError, match=r"refusing to calibrate on dev\.jsonl"):
        check_not_same(path, tmp_path / "." / "dev.jsonl")


def synthetic_rows(dataset: str, articles: range) -> list[dict]:
    """Supported claims copy a source sentence; unsupported ones change its number or its name."""
    rows = []
    for i in articles:
        source = (f"Officials in Seoul said {1000 + i} North Korean soldiers arrived in Kursk in week {i}. "
                  f"The Kremlin declined to comment on the report from analyst Maria Petrova number {i}.")
        rows += [
            {"claim": f"Officials in Seoul said {1000 + i} North Korean soldiers arrived in Kursk.", "label": 1},
            {"claim": f"Officials in Seoul said {5000 + i} North Korean soldiers arrived in Kursk.", "label": 0},
            {"claim": "Officials in Washington said the Chinese army arrived in Belgorod.", "label": 0},
        ]
        for row in rows[-3:]:
            row.update(source=source, dataset=dataset, article_id=f"{dataset}-{i}")
    return rows


def write_rows(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_calibrate_then_score_on_another_file(tmp_path):
    dev, test, calibration = tmp_path / "dev.jsonl", tmp_path / "test.jsonl", tmp_path / "calibration.json"
    write_rows(dev, synthetic_rows("a", range(8)) + synthetic_rows("b", range(8, 16)))
    write_rows(test, synthetic_rows("a", range(20, 24)) + synthetic_rows("b", range(24, 28)))
    reports = evaluate_judges(test, calibrate_on=dev, calibration_file=calibration)
    by_name = {r.judge: r for r in reports}
    assert set(by_name) == {"lexical", "trained (default offline)", "learned"}
    assert by_name["learned"].balanced_accuracy >= 0.9 and by_name["learned"].per_dataset.keys() == {"a", "b"}
    saved = json.loads(calibration.read_text())
    assert saved["trained_on"]["file"] == "dev.jsonl" and len(saved["learned"]["weights"]) == 10
    assert "IN SAMPLE" not in (by_name["learned"].note or "")
    judge = LearnedJudge(saved["learned"])
    assert judge.judge("Officials in Seoul said 1003 North Korean soldiers arrived in Kursk.",
                       [synthetic_rows("a", range(3, 4))[0]["source"]]).supported
    again = evaluate_judges(dev, calibration_file=calibration)
    assert "IN SAMPLE" in next(r for r in again if r.judge == "learned").note


def test_cli_eval_judge_json(tmp_path, monkeypatch):
    data = tmp_path / "rows.jsonl"
    write_rows(data, synthetic_rows("a", range(3)))
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["eval", "judge", "--data", str(data), "--no-embeddings", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "roc" in json.loads((out / "report.json").read_text())["judges"][0]
    assert "<img" in (out / "report.html").read_text()
    judges = json.loads(result.stdout)["judges"]
    lexical = judges["lexical"]
    assert {"balanced_accuracy", "precision", "recall", "f1", "auc", "threshold", "n"} <= set(lexical)
    assert lexical["n"] == 9


def test_cli_eval_errors():
    runner = CliRunner()
    assert runner.invoke(app, ["eval", "judge"]).stderr.startswith("Error: `briefing eval judge` needs --data")
    assert runner.invoke(app, ["eval", "no-such-folder/"]).stderr == "Error: no such suite file or folder: no-such-folder\n"
