"""Cross-validated figures for every judge on the same human rows, and the default decision.

Every figure is article-disjoint 5-fold (folds by article hash, ``support_judge.fold_of``):
- lexical: no training; its verdict on (claim, whole source);
- learned: the logistic regression over lexical features, refitted on each fold's other four;
- trained: the cross-encoder's out-of-fold probability at 0.5;
- trained + checks: with the lexical vetoes and the verbatim rule, the vetoes and threshold chosen
  on the other four folds' out-of-fold scores (nested, so the figure is not tuned on its own fold);
- stacked + checks (what ships as `trained`): a logistic regression over the lexical features and
  the cross-encoder's logit, fitted on four folds' out-of-fold scores, then the same checks.

The shipped judge becomes the default only if the 95% bootstrap interval (articles resampled)
of its mean per-dataset balanced accuracy minus the lexical judge's lies above zero.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np

from training.support_judge import CHECKS, FOLDS, Example, fold_of, load_prepared, sha256, training_digest

NEWS = ("frank-cnndm", "frank-xsum", "xsumfaith", "fib-cnndm", "fib-xsum", "defacto-xsum", "summeval",
        "bump-task1", "bump-task2", "summedits-news")
THRESHOLDS = np.round(np.arange(0.2, 0.81, 0.05), 2)
TIE = 0.001


def per_dataset(labels: np.ndarray, supported: np.ndarray, datasets: np.ndarray) -> dict[str, float]:
    out = {}
    for name in sorted(set(datasets)):
        mask = datasets == name
        rates = [np.mean(supported[mask & (labels == c)] == bool(c)) for c in (0, 1) if np.any(mask & (labels == c))]
        out[name] = float(np.mean(rates))
    return out


def mean_ba(labels, supported, datasets) -> float:
    return float(np.mean(list(per_dataset(labels, supported, datasets).values())))


def with_checks(p: np.ndarray, rows: list[Example], vetoes: tuple[str, ...], threshold: float) -> np.ndarray:
    vetoed = np.array([any(c in vetoes for c in e.problems) for e in rows])
    verbatim = np.array([e.verbatim for e in rows])
    return ~vetoed & (verbatim | (p >= threshold))


def choose_checks(p, rows, labels, datasets) -> tuple[tuple[str, ...], float]:
    """The vetoes and threshold with the best mean per-dataset balanced accuracy on these rows.
    Within ``TIE`` of the best, the stricter choice (more vetoes) wins: a veto that costs nothing
    on these labels still guards against errors they rarely hold (a changed figure in a fluent
    sentence), and differences this small are far inside the bootstrap interval (about ±0.015)."""
    scored = [(mean_ba(labels, with_checks(p, rows, vetoes, t), datasets), vetoes, float(t))
              for size in range(len(CHECKS) + 1) for vetoes in itertools.combinations(CHECKS, size) for t in THRESHOLDS]
    best = max(score for score, _, _ in scored)
    _, vetoes, threshold = max((len(v), score, v, t) for score, v, t in scored if score >= best - TIE)[1:]
    return vetoes, threshold


def grouped_oof(features: np.ndarray, rows: list[Example], folds: np.ndarray) -> np.ndarray:
    """Out-of-fold probabilities of a logistic regression over ``features`` (the learned judge's
    fit: standardized, per-cell weights), each fold predicted by a fit on the others."""
    from briefing.answer.judge import logistic
    from briefing.evaluate.judges import fit_learned

    out = np.zeros(len(rows))
    for k in np.unique(folds):
        train, test = folds != k, folds == k
        model = fit_learned(features[train], [support_row(e) for e, t in zip(rows, train) if t])
        out[test] = logistic(model, features[test])
    return out


def support_row(example: Example):
    from briefing.evaluate.judges import SupportRow

    return SupportRow(claim=example.claim, source="", label=example.label, dataset=example.dataset)


def lexical_features(rows: list[Example]) -> np.ndarray:
    return np.array([e.features for e in rows])


def stack_features(p: np.ndarray, rows: list[Example]) -> np.ndarray:
    """The learned judge's lexical features plus the cross-encoder's logit (clipped as at query time)."""
    clipped = np.clip(p, 1e-4, 1 - 1e-4)
    return np.column_stack([lexical_features(rows), np.log(clipped / (1 - clipped))])


def fit_stack(p: np.ndarray, rows: list[Example]) -> dict:
    """The stack shipped in the card: fitted on every row's out-of-fold cross-encoder score."""
    from briefing.answer.judge import FEATURES
    from briefing.evaluate.judges import fit_learned

    model = fit_learned(stack_features(p, rows), [support_row(e) for e in rows])
    model["features"] = [*FEATURES, "cross_encoder_logit"]
    return model


def _subset(rows: list[Example], mask: np.ndarray) -> list[Example]:
    return [r for r, m in zip(rows, mask) if m]


def nested_checks(p, rows, labels, datasets, folds) -> tuple[np.ndarray, list[dict]]:
    """Vetoes and threshold chosen on four folds' scores, applied to the fifth."""
    verdicts, choices = np.zeros(len(rows), dtype=bool), []
    for k in range(FOLDS):
        other, mine = folds != k, folds == k
        vetoes, threshold = choose_checks(p[other], _subset(rows, other), labels[other], datasets[other])
        choices.append({"fold": k + 1, "vetoes": list(vetoes), "threshold": threshold})
        verdicts[mine] = with_checks(p[mine], _subset(rows, mine), vetoes, threshold)
    return verdicts, choices


def nested_stacked(p, rows, labels, datasets, folds) -> tuple[np.ndarray, list[dict]]:
    """The shipped judge, fully nested: for each outer fold, the stack's own out-of-fold scores on
    the other four folds (inner folds) choose the vetoes and threshold; then the stack fitted on
    those four folds scores the fifth. Fold k's labels touch nothing that judges fold k."""
    from briefing.answer.judge import logistic
    from briefing.evaluate.judges import fit_learned

    features = stack_features(p, rows)
    verdicts, choices = np.zeros(len(rows), dtype=bool), []
    for k in range(FOLDS):
        other, mine = folds != k, folds == k
        inner = grouped_oof(features[other], _subset(rows, other), folds[other])
        vetoes, threshold = choose_checks(inner, _subset(rows, other), labels[other], datasets[other])
        choices.append({"fold": k + 1, "vetoes": list(vetoes), "threshold": threshold})
        stack = fit_learned(features[other], [support_row(e) for e in _subset(rows, other)])
        verdicts[mine] = with_checks(logistic(stack, features[mine]), _subset(rows, mine), vetoes, threshold)
    return verdicts, choices


def bootstrap_difference(labels, a, b, datasets, groups, resamples: int = 1000, seed: int = 7) -> tuple[float, float]:
    """95% interval of mean-BA(a) − mean-BA(b), resampling articles with replacement."""
    names, group_ids = sorted(set(datasets)), np.unique(groups, return_inverse=True)[1]
    rng = np.random.default_rng(seed)
    # counts[g, d, c, j]: rows of group g, dataset d, label c judged right by judge j
    right = np.zeros((group_ids.max() + 1, len(names), 2, 2))
    total = np.zeros((group_ids.max() + 1, len(names), 2))
    index = {n: i for i, n in enumerate(names)}
    for g, d, y, ja, jb in zip(group_ids, datasets, labels, a, b):
        total[g, index[d], y] += 1
        right[g, index[d], y, 0] += ja == bool(y)
        right[g, index[d], y, 1] += jb == bool(y)
    diffs = []
    for _ in range(resamples):
        w = rng.multinomial(len(total), np.full(len(total), 1 / len(total)))
        t = np.einsum("g,gdc->dc", w, total)
        r = np.einsum("g,gdcj->dcj", w, right)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = r / t[..., None]
        ba = np.nanmean(rate, axis=1)  # per dataset and judge: mean over the labels present
        mean = np.nanmean(ba, axis=0)
        diffs.append(mean[0] - mean[1])
    return float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))


def merged_oof(paths: list[Path], digest: str, rows: int) -> np.ndarray:
    """The out-of-fold scores of ``cv`` runs, checked: made from this prepared file, one score
    per row, and no row scored by two runs."""
    if not paths:
        raise SystemExit("no out-of-fold files: run `python -m training.support_judge cv` first")
    merged = np.full(rows, np.nan)
    for path in paths:
        run = json.loads(path.read_text())
        if run.get("training_digest") != digest:
            raise SystemExit(f"{path}: made from other prepared rows than these (training_digest differs)")
        scores = np.array([np.nan if v is None else v for v in run["oof"]])
        if len(scores) != rows:
            raise SystemExit(f"{path}: {len(scores)} scores for {rows} prepared rows")
        if np.any(~np.isnan(scores) & ~np.isnan(merged)):
            raise SystemExit(f"{path}: scores rows another file already scored")
        merged = np.where(np.isnan(merged), scores, merged)
    return merged


def report(data: Path, oof_paths: list[Path], card_path: Path) -> dict:
    header, examples = load_prepared(data)
    oof_all = merged_oof(oof_paths, training_digest(examples), len(examples))
    keep = [i for i, e in enumerate(examples) if e.kind == "human"]
    rows = [examples[i] for i in keep]
    p = oof_all[keep]
    if np.isnan(p).any():
        raise SystemExit(f"{int(np.isnan(p).sum())} human rows have no out-of-fold score: run every fold")
    labels = np.array([e.label for e in rows])
    datasets = np.array([e.dataset for e in rows])
    groups = np.array([e.group for e in rows])
    folds = np.array([fold_of(e.group) for e in rows])
    nested, choices = nested_checks(p, rows, labels, datasets, folds)
    shipped, stacked_choices = nested_stacked(p, rows, labels, datasets, folds)
    verdicts = {
        "lexical": np.array([bool(e.lexical) for e in rows]),
        "learned": grouped_oof(lexical_features(rows), rows, folds) >= 0.5,
        "trained": p >= 0.5,
        "trained + checks": nested,
        "stacked + checks": shipped,
    }
    table = {name: per_dataset(labels, v, datasets) for name, v in verdicts.items()}
    summary = {name: {"mean": round(float(np.mean(list(t.values()))), 4),
                      "news_mean": round(float(np.mean([t[d] for d in NEWS if d in t])), 4)} for name, t in table.items()}
    low, high = bootstrap_difference(labels, verdicts["stacked + checks"], verdicts["lexical"], datasets, groups)
    default = "trained" if low > 0 else "lexical"
    result = {
        "rows": len(rows), "folds": FOLDS, "per_dataset": {n: {d: round(v, 4) for d, v in t.items()} for n, t in table.items()},
        "summary": summary, "difference_vs_lexical_95": [round(low, 4), round(high, 4)], "default": default,
        "fold_choices": {"trained + checks": choices, "stacked + checks": stacked_choices},
    }
    stack = fit_stack(p, rows)
    final_vetoes, final_threshold = choose_checks(grouped_oof(stack_features(p, rows), rows, folds), rows, labels, datasets)
    print_table(table, summary, (low, high), default)
    card = json.loads(card_path.read_text()) if card_path.exists() else {}
    card.update({"stack": stack, "threshold": final_threshold, "vetoes": list(final_vetoes), "cross_validation": result,
                 "oof": {"files": [p.name for p in oof_paths], "recipe": json.loads(oof_paths[0].read_text()).get("recipe"),
                         "device": json.loads(oof_paths[0].read_text()).get("device")},
                 "prepared": {"file": data.name, "sha256": sha256(data), **header}})
    card_path.parent.mkdir(parents=True, exist_ok=True)
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    return result


def print_table(table: dict, summary: dict, interval: tuple[float, float], default: str) -> None:
    names = list(table)
    print("| dataset | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for dataset in sorted(next(iter(table.values()))):
        print(f"| {dataset} | " + " | ".join(f"{table[n][dataset]:.3f}" for n in names) + " |")
    print("| **mean** | " + " | ".join(f"**{summary[n]['mean']:.3f}**" for n in names) + " |")
    print("| news datasets mean | " + " | ".join(f"{summary[n]['news_mean']:.3f}" for n in names) + " |")
    print(f"\nstacked + checks (the shipped judge) minus lexical, 95% bootstrap interval: [{interval[0]:+.3f}, {interval[1]:+.3f}] → default: {default}")
