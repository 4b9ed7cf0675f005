"""How far can the support judges be trusted? Score them against human (claim, source, label) rows.

Rows follow ../shared/data/support: `claim`, `source`, `label` (1 supported, 0 not), and optionally
`dataset` and `article_id`. Balanced accuracy is reported per dataset and as their mean, since each
dataset is one-sided and a judge must not win by telling datasets apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from briefing.answer.judge import FEATURES, judge_features, logistic
from briefing.errors import ConfigError, InputError, OptionError
from briefing.settings import Settings

if TYPE_CHECKING:
    from briefing.chat import StructuredModel
    from briefing.embedding import Embedder


class SupportRow(BaseModel):
    claim: str
    source: str
    label: int = Field(ge=0, le=1)
    dataset: str = "all"
    article_id: str | None = None


def load_rows(path: Path) -> list[SupportRow]:
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(str(path), f"cannot read file ({exc.strerror or exc})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(SupportRow.model_validate_json(line))
        except ValidationError as exc:
            problem = exc.errors()[0]
            field = ".".join(str(p) for p in problem["loc"]) or "row"
            raise InputError(f"{path}:{number}", f"{field}: {problem['msg']}") from None
    if not rows:
        raise InputError(str(path), "no rows")
    return rows


# --- metrics ---------------------------------------------------------------------------------


def balanced_accuracy(labels: np.ndarray, supported: np.ndarray) -> float:
    """Mean of the true-positive rate on supported rows and the true-negative rate on unsupported
    ones; a class missing from ``labels`` is left out of the mean."""
    rates = [np.mean(supported[labels == 1]) if np.any(labels == 1) else None,
             np.mean(~supported[labels == 0]) if np.any(labels == 0) else None]
    present = [r for r in rates if r is not None]
    return float(np.mean(present)) if present else float("nan")


def unsupported_detection(labels: np.ndarray, supported: np.ndarray) -> tuple[float, float, float]:
    """Precision, recall and F1 for catching unsupported claims (the positive class is label 0)."""
    flagged, truly = ~supported, labels == 0
    hits = float(np.sum(flagged & truly))
    precision = hits / flagged.sum() if flagged.sum() else 0.0
    recall = hits / truly.sum() if truly.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Probability that a supported row scores above an unsupported one (ties count half)."""
    positive, negative = scores[labels == 1], scores[labels == 0]
    if not len(positive) or not len(negative):
        return float("nan")
    greater = (positive[:, None] > negative[None, :]).sum()
    ties = (positive[:, None] == negative[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positive) * len(negative)))


def mean_balanced_accuracy(labels: np.ndarray, supported: np.ndarray, groups: np.ndarray) -> float:
    return float(np.mean([balanced_accuracy(labels[groups == g], supported[groups == g]) for g in np.unique(groups)]))


def best_threshold(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> float:
    """The score cut (supported when score ≥ cut) with the best mean per-group balanced accuracy."""
    candidates = np.unique(scores)
    values = [mean_balanced_accuracy(labels, scores >= c, groups) for c in candidates]
    return float(candidates[int(np.argmax(values))])


class JudgeReport(BaseModel):
    judge: str
    n: int
    threshold: float | None
    balanced_accuracy: float = Field(description="Mean over datasets of each dataset's balanced accuracy.")
    per_dataset: dict[str, float]
    precision: float
    recall: float
    f1: float
    auc: float
    note: str | None = None
    roc: list[tuple[float, float]] = Field(default_factory=list, description="(false, true positive rate) points.")


def report(name: str, rows: list[SupportRow], scores: np.ndarray, supported: np.ndarray,
           threshold: float | None, note: str | None = None) -> JudgeReport:
    labels = np.array([r.label for r in rows])
    groups = np.array([r.dataset for r in rows])
    per = {g: round(balanced_accuracy(labels[groups == g], supported[groups == g]), 4) for g in sorted(set(groups))}
    precision, recall, f1 = unsupported_detection(labels, supported)
    return JudgeReport(judge=name, n=len(rows), threshold=threshold, balanced_accuracy=round(float(np.mean(list(per.values()))), 4),
                       per_dataset=per, precision=round(precision, 4), recall=round(recall, 4), f1=round(f1, 4),
                       auc=round(roc_auc(labels, scores), 4), note=note, roc=roc_points(labels, scores))


def roc_points(labels: np.ndarray, scores: np.ndarray, most: int = 200) -> list[tuple[float, float]]:
    """The ROC curve (supported is positive) at up to ``most`` cuts, for plotting."""
    if not np.any(labels == 1) or not np.any(labels == 0):
        return []
    cuts = np.unique(np.quantile(scores, np.linspace(0, 1, most)))[::-1]
    points = [(0.0, 0.0)]
    for cut in cuts:
        predicted = scores >= cut
        points.append((round(float(np.mean(predicted[labels == 0])), 4), round(float(np.mean(predicted[labels == 1])), 4)))
    return [*points, (1.0, 1.0)]


# --- judges under evaluation -----------------------------------------------------------------


@dataclass
class Scored:
    scores: np.ndarray
    supported: np.ndarray


def score_verdicts(rows: list[SupportRow], judge, progress: Callable[[], None] | None = None) -> Scored:
    scores, supported = [], []
    for row in rows:
        verdict = judge.judge(row.claim, [row.source])
        scores.append(verdict.score)
        supported.append(verdict.supported)
        if progress:
            progress()
    return Scored(np.array(scores), np.array(supported))


def feature_matrix(rows: list[SupportRow], progress: Callable[[], None] | None = None) -> np.ndarray:
    out = []
    for row in rows:
        out.append(judge_features(row.claim, [row.source]))
        if progress:
            progress()
    return np.vstack(out)


def embedding_scores(rows: list[SupportRow], embedder) -> np.ndarray:
    """Baseline: the best cosine between the claim and any source sentence."""
    from briefing.text import split_sentences

    sources = {row.source: split_sentences(row.source) or [row.source] for row in rows}
    unique = sorted({s for sentences in sources.values() for s in sentences})
    index = {s: i for i, s in enumerate(unique)}
    vectors = embedder.embed(unique)
    claims = embedder.embed([row.claim for row in rows])
    return np.array([float(np.max(vectors[[index[s] for s in sources[row.source]]] @ claims[i])) for i, row in enumerate(rows)])


# --- calibration -----------------------------------------------------------------------------


def cell_weights(rows: list[SupportRow]) -> np.ndarray:
    """Sample weights giving every (dataset, label) cell the same total weight."""
    cells = [(r.dataset, r.label) for r in rows]
    counts = {cell: cells.count(cell) for cell in set(cells)}
    return np.array([len(rows) / (len(counts) * counts[cell]) for cell in cells])


def fit_learned(features: np.ndarray, rows: list[SupportRow]) -> dict:
    """Standardize, then fit an L2 logistic regression with per-cell weights (deterministic)."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = features.mean(axis=0), features.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit((features - mean) / scale, [r.label for r in rows], sample_weight=cell_weights(rows))
    return {"features": list(FEATURES), "mean": mean.tolist(), "scale": scale.tolist(),
            "weights": model.coef_[0].tolist(), "bias": float(model.intercept_[0])}


def cross_validated(features: np.ndarray, rows: list[SupportRow], folds: int = 5) -> np.ndarray:
    """Out-of-fold probabilities, folds split by article so no article is in train and test."""
    from sklearn.model_selection import GroupKFold

    groups = [r.article_id or r.claim for r in rows]
    out = np.zeros(len(rows))
    for train, test in GroupKFold(n_splits=folds).split(features, groups=groups):
        model = fit_learned(features[train], [rows[i] for i in train])
        out[test] = logistic(model, features[test])
    return out


def calibrate(dev: list[SupportRow], dev_path: Path, progress: Callable[[], None] | None = None) -> dict:
    """Fit the learned judge on DEV; its threshold is chosen on out-of-fold predictions."""
    labels = np.array([r.label for r in dev])
    groups = np.array([r.dataset for r in dev])
    features = feature_matrix(dev, progress)
    held_out = cross_validated(features, dev)
    learned = fit_learned(features, dev)
    learned["threshold"] = best_threshold(labels, held_out, groups)
    cv = report("learned (5-fold CV on dev)", dev, held_out, held_out >= learned["threshold"], learned["threshold"])
    return {
        "trained_on": {"file": dev_path.name, "sha256": hashlib.sha256(dev_path.read_bytes()).hexdigest(), "rows": len(dev)},
        "learned": learned,
        "cross_validation": cv.model_dump(),
    }


def save_calibration(data: dict, path: Path) -> None:
    from briefing.output.files import write_atomic

    write_atomic(path, json.dumps(data, indent=2) + "\n")


def check_not_same(data: Path, dev: Path) -> None:
    if data.resolve() == dev.resolve():
        raise ConfigError(f"refusing to calibrate on {data.name}, the file being scored: calibrate on a dev split")


def _in_sample_note(judge, digest: str) -> str:
    """A warning when ``judge`` was trained on the very file being scored (its card lists it)."""
    from briefing.answer.cross_encoder import load_card

    if getattr(judge, "name", "") != "trained":
        return ""
    files = load_card().get("trained_on", {})
    if any(info.get("sha256") == digest for info in files.values()):
        return " — IN SAMPLE: trained on this very file; its held-out figures are the card's cross-validation"
    return ""


# --- the run ---------------------------------------------------------------------------------

EMBEDDING_DEFAULT_CUT = 0.6  # used until `--calibrate` fits one


def evaluate_judges(data_path: Path | None, *, calibrate_on: Path | None = None, embedder: Embedder | None = None,
                    llm: StructuredModel | None = None,
                    calibration_file: Path | None = None, progress: Callable[[str, int], Callable[[], None]] | None = None,
                    threads: int | None = None) -> list[JudgeReport]:
    """Score every registered judge (``judges.JUDGES``; the llm judge only with ``llm``) on
    ``data_path``; with ``calibrate_on``, first fit and save the learned judge's calibration."""
    from briefing.answer.judge import LearnedJudge, calibration_path, load_calibration
    from briefing.answer.judges import JUDGES, OFFLINE_JUDGE, make_judge

    tick = (lambda label, total: progress(label, total)) if progress else (lambda label, total: None)
    if calibrate_on is not None:
        if data_path is not None:
            check_not_same(data_path, calibrate_on)
        dev = load_rows(calibrate_on)
        data = calibrate(dev, calibrate_on, tick(f"calibrating on {calibrate_on.name}", len(dev)))
        if embedder is not None:
            labels, groups = np.array([r.label for r in dev]), np.array([r.dataset for r in dev])
            data["embedding"] = {"threshold": best_threshold(labels, embedding_scores(dev, embedder), groups)}
        save_calibration(data, calibration_file or Path(str(calibration_path())))
        load_calibration.cache_clear()
    calibration = load_calibration() if calibration_file is None else json.loads(calibration_file.read_text())
    if data_path is None:
        return []
    rows = load_rows(data_path)
    digest = hashlib.sha256(data_path.read_bytes()).hexdigest()
    in_sample = calibration.get("trained_on", {}).get("sha256") == digest
    fitted_here = " — IN SAMPLE: fitted on this very file; its held-out estimate is the calibration's cross-validation" if in_sample else ""
    reports = []
    for name, entry in JUDGES.items():
        if entry.needs_llm or not entry.factory or (name == "learned" and not calibration.get("learned")):
            continue
        judge = LearnedJudge(calibration["learned"]) if name == "learned" else make_judge(name, threads=threads)
        scored = score_verdicts(rows, judge, tick(f"{name} judge", len(rows)))
        note = entry.description + (fitted_here if name == "learned" else _in_sample_note(judge, digest))
        label = f"{name} (default offline)" if name == OFFLINE_JUDGE else name
        reports.append(report(label, rows, scored.scores, scored.supported, getattr(judge, "threshold", None), note=note))
    if embedder is not None:
        cut = calibration.get("embedding", {}).get("threshold", EMBEDDING_DEFAULT_CUT)
        scores = embedding_scores(rows, embedder)
        reports.append(report("embedding similarity", rows, scores, scores >= cut, cut,
                              note=f"best cosine, {embedder.name}{fitted_here if 'embedding' in calibration else ''}"))
    if llm is not None:
        for name in ("llm", "model"):
            scored = score_verdicts(rows, make_judge(name, llm), tick(f"{name} judge", len(rows)))
            reports.append(report(name, rows, scored.scores, scored.supported, None, note=llm.model))
    return reports


def evaluate_judges_as_asked(settings: Settings, data: Path | None, *, calibrate_on: Path | None = None,
                             embeddings: bool = True, provider: str | None = None,
                             progress: Callable[[str, int], Callable[[], None]] | None = None) -> list[JudgeReport]:
    """`briefing eval judge`: ``evaluate_judges`` with the embedding baseline when ``embeddings``,
    and the llm judge when ``provider`` names a model or an OpenAI key is configured (the bundled
    135M model would take hours over a dev file and is no judge). OptionError without a file."""
    from briefing.pipeline import Components

    if data is None and calibrate_on is None:
        raise OptionError("`briefing eval judge` needs --data FILE.jsonl (or only --calibrate DEV.jsonl to fit)")
    chosen = provider or ("openai" if settings.has_openai_key else None)
    components = Components(settings, provider=chosen)
    return evaluate_judges(data, calibrate_on=calibrate_on, embedder=components.embedder if embeddings else None,
                           llm=components.llm if chosen else None, progress=progress, threads=settings.threads)
