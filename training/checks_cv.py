"""Cross-validated human-label figures of the offline judge with the checks of meaning.

The shipped cross-encoder's out-of-fold scores (``training/cv/oof-fold*.json``) index the rows of
the prepared file they were made from (``prepared.jsonl.gz``, from ``support_judge prepare`` at the
commit that trained the model: the report refuses other rows). This script keeps those scores and
the stack's features, recomputes only which checks of meaning fire on each human row with the
current ``briefing.answer.checks`` (on the whole source, as at query time), and scores, article-
disjoint and nested (the threshold of fold k chosen on the other four folds' out-of-fold stack
scores):

- ``before``: the judge as shipped before the checks of meaning (the card's vetoes, number and
  name, on the earlier lexical checks recorded in the prepared file);
- ``checks``: every check of meaning vetoes, then the stack, threshold chosen nested;
- ``checks, threshold T (shipped)``: the same at the shipped threshold, and at the card's 0.5.

    python -m training.checks_cv --data training/data/prepared.jsonl.gz [--problems FILE.json] [--same-order]

``--problems`` reuses a saved list of (checks that fired, all clauses aligned) per human row.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from briefing import lexicon
from training.report import NEWS, THRESHOLDS, fit_stack, load_prepared, mean_ba, merged_oof, per_dataset, stack_features
from training.support_judge import FOLDS, SHARED, fold_of, read_rows, training_digest

ROOT = Path(__file__).resolve().parent.parent


def fired(row: dict) -> tuple[list[str], bool]:
    from briefing.answer.checks import align, claim_problems, clauses

    source = row["source"]
    problems = sorted({p.check for p in claim_problems(row["claim"], [source])})
    aligned = align(row["claim"], source) is not None and all(align(x, source) for x in clauses(row["claim"]))
    return problems, aligned


def nested_threshold(scores: np.ndarray, vetoed: np.ndarray, verbatim: np.ndarray, labels, datasets, folds) -> np.ndarray:
    verdicts = np.zeros(len(scores), dtype=bool)
    for k in range(FOLDS):
        other, mine = folds != k, folds == k

        def judged(cut, mask):
            return ~vetoed[mask] & (verbatim[mask] | (scores[mask] >= cut))

        best = max(THRESHOLDS, key=lambda cut: mean_ba(labels[other], judged(cut, other), datasets[other]))
        verdicts[mine] = judged(best, mine)
    return verdicts


def stack_oof(p: np.ndarray, rows, folds: np.ndarray) -> np.ndarray:
    from briefing.answer.judge import logistic

    out = np.zeros(len(rows))
    for k in range(FOLDS):
        train = folds != k
        model = fit_stack(p[train], [r for r, t in zip(rows, train, strict=True) if t])
        out[folds == k] = logistic(model, stack_features(p[folds == k], [r for r, t in zip(rows, folds == k, strict=True) if t]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "training" / "data" / "prepared.jsonl.gz")
    parser.add_argument("--problems", type=Path, default=None)
    parser.add_argument("--same-order", action="store_true",
                        help="accept out-of-fold files made from another prepare of the same rows in the same order")
    args = parser.parse_args()
    _, examples = load_prepared(args.data)
    oof_files = sorted((ROOT / "training" / "cv").glob("oof-fold*.json"))
    digest = training_digest(examples)
    if args.same_order:
        # Made from another prepare of the same rows in the same order: the human rows (read in
        # file order, first in both) line up; "before" reproducing the card's figure shows it.
        digest = json.loads(oof_files[0].read_text())["training_digest"]
    oof = merged_oof(oof_files, digest, len(examples))
    keep = [i for i, e in enumerate(examples) if e.kind == "human"]
    rows = [examples[i] for i in keep]
    if args.problems:
        checks = json.loads(args.problems.read_text())
    else:
        human = read_rows(SHARED / "train.jsonl") + read_rows(SHARED / "dev.jsonl")
        with ProcessPoolExecutor(max_workers=2) as pool:
            checks = list(pool.map(fired, human, chunksize=32))
    p = oof[keep]
    labels = np.array([e.label for e in rows])
    datasets = np.array([e.dataset for e in rows])
    folds = np.array([fold_of(e.group) for e in rows])
    verbatim = np.array([e.verbatim for e in rows])
    scores = stack_oof(p, rows, folds)
    shipped = lexicon.threshold("trained", "threshold")
    earlier = np.array([bool({"number", "name"} & set(e.problems)) for e in rows])
    now = np.array([bool(problems) for problems, _ in checks])
    verdicts = {
        "before (number and name vetoes)": nested_threshold(scores, earlier, verbatim, labels, datasets, folds),
        "checks of meaning, nested threshold": nested_threshold(scores, now, verbatim, labels, datasets, folds),
        f"checks of meaning, threshold {shipped} (shipped)": ~now & (verbatim | (scores >= shipped)),
        "checks of meaning, threshold 0.5": ~now & (verbatim | (scores >= 0.5)),
    }
    print(f"{len(rows)} human rows, {FOLDS} article-disjoint folds, {np.mean(labels == 0):.1%} unsupported; rows a check fires on: "
          f"{now.mean():.1%} (of them unsupported: {np.mean(labels[now] == 0):.1%})")
    for name, v in verdicts.items():
        table = per_dataset(labels, v, datasets)
        news = np.mean([table[d] for d in NEWS if d in table])
        print(f"{name:40s} mean balanced accuracy {np.mean(list(table.values())):.4f}  news {news:.4f}")
    kinds = sorted({k for problems, _ in checks for k in problems})
    for kind in kinds:
        mask = np.array([kind in problems for problems, _ in checks])
        print(f"  {kind:10s} fires on {mask.sum():5d} rows, {np.mean(labels[mask] == 0):.1%} of them unsupported")


if __name__ == "__main__":
    main()
