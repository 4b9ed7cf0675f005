"""Running evaluation suites: every case goes through the pipeline, each briefing is saved, then
the saved briefings are scored (``evaluate.scoring``).

Two judges play two roles. The *verifier* (``--judge``, BRIEFING_JUDGE) decided during the run
which sentences were kept. The *scorer* (``--scoring-judge``, BRIEFING_EVAL_JUDGE; by default a
different judge, ``judges.scoring_judge_for``) scores citation recall, precision and the
unsupported rate afterwards, so those figures are not 1.0 by construction. The verifier's own
citation recall and how often the two judges agree on a shown sentence are reported beside them.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from briefing import pipeline
from briefing.answer.judges import make_judge, scoring_judge_for
from briefing.errors import BriefingError, OptionError
from briefing.evaluate.cases import EvalCase, Suite, corpus_of, load_suite, suite_files
from briefing.evaluate.details import describe
from briefing.evaluate.scoring import CaseResult, EvalReport, SuiteRun, aggregate, case_metrics
from briefing.models import Briefing, Request
from briefing.output.files import write_atomic
from briefing.pipeline import Components

ACTIONS = ("kept", "repaired", "replaced", "dropped")


def git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def run_suites(
    target: Path,
    components: Components,
    *,
    out_dir: Path | None = None,
    scoring_judge: str | None = None,
    resume: bool = True,
    progress: Callable[[str, int], Callable[[], None]] | None = None,
) -> EvalReport:
    """Run every case of every suite in ``target`` (a suite file or a folder of them), save each
    briefing under ``out_dir`` (default: BRIEFING_HOME/eval/runs), and score the saved files with
    ``scoring_judge`` (default: BRIEFING_EVAL_JUDGE, else a judge other than the verifier's).
    Each suite's corpus is ingested into a store of its own: under BRIEFING_HOME/eval/<suite>, in
    collection <collection>-eval-<suite>."""
    if not target.exists():
        raise OptionError(f"no such suite file or folder: {target}")
    settings = components.settings
    out_dir = out_dir or settings.home / "eval" / "runs"
    verifier = components.judge
    scoring = scoring_judge or settings.eval_judge or scoring_judge_for(verifier.name)
    scorer = verifier if scoring == verifier.name else make_judge(scoring, components.llm, settings.threads)
    runs, results = [], []
    for path in suite_files(target):
        suite = load_suite(path)
        corpus = corpus_of(suite, path)
        run = SuiteRun(suite=suite.suite, file=str(path), corpus=str(corpus))
        runs.append(run)
        if not corpus.exists():
            run.skipped = f"corpus not found: {corpus}" + (f" (set {suite.corpus_env})" if suite.corpus_env else "")
            continue
        with components.with_store(settings.home / "eval" / suite.suite, f"{settings.collection}-eval-{suite.suite}") as own:
            article_ids = _prepare_corpus(corpus, own, suite)
            tick = progress(f"{suite.suite} ({components.provider})", len(suite.cases)) if progress else None
            for case in suite.cases:
                result = _run_case(case, suite, own, out_dir / "cases" / suite.suite / components.provider, resume)
                run.cases.append(_scored(result, suite.suite, case, (verifier, scorer), article_ids))
                results.append(run.cases[-1])
                if tick:
                    tick()
    actions = {a: sum(r.actions.get(a, 0) for r in results) for a in ACTIONS}
    return EvalReport(created_at=datetime.now(UTC), commit=git_commit(), provider=components.provider,
                      model=components.model, judge=verifier.name, scoring_judge=scorer.name, settings=settings.public(),
                      suites=runs, aggregate=aggregate(results), actions=actions)


def _prepare_corpus(corpus: Path, components: Components, suite: Suite) -> dict[str, set[str]]:
    """Ingest the corpus into the suite's own store (idempotent) and resolve the cases' article refs."""
    from briefing.ingest import ingest

    ingest([corpus], components)
    refs = {ref for case in suite.cases for fact in case.must_include for ref in fact.articles}
    return {ref: components.store.catalog.article_ids_for(ref) for ref in refs}


@dataclass
class _Ran:
    """A case's briefing (None when the run failed), its latency, where it was saved, or the error."""

    briefing: Briefing | None
    latency: float = 0.0
    saved: Path | None = None
    error: str | None = None


def _run_case(case: EvalCase, suite: Suite, components: Components, folder: Path, resume: bool) -> _Ran:
    """The case's briefing: the saved one when resuming, else a fresh run, saved atomically."""
    saved = folder / f"{case.id}.json"
    if resume and saved.exists():
        try:
            stored = json.loads(saved.read_text(encoding="utf-8"))
            return _Ran(Briefing.model_validate(stored["briefing"]), stored["latency_s"], saved)
        except (OSError, ValueError, KeyError, ValidationError):
            pass
    request = Request(kind="answer" if case.kind == "ask" else "brief", query=case.query, filters=case.filters())
    started = time.perf_counter()
    try:
        briefing = pipeline.run(request, components)
    except BriefingError as exc:
        return _Ran(None, error=str(exc))
    latency = time.perf_counter() - started
    write_atomic(saved, json.dumps({"case": case.model_dump(mode="json"), "latency_s": latency,
                                    "briefing": briefing.model_dump(mode="json")}, indent=2) + "\n")
    return _Ran(briefing, latency, saved)


def _scored(ran: _Ran, suite: str, case: EvalCase, judges, article_ids: dict[str, set[str]]) -> CaseResult:
    """The case's metrics and actions, with its detail (``details.describe``) for the report."""
    detail = dict(describe(case, ran.briefing, article_ids, ran.error))
    if ran.briefing is None:
        return CaseResult(suite=suite, id=case.id, kind=case.kind, metrics={}, actions={}, abstained=False, error=ran.error,
                          **detail)
    counts = ran.briefing.counts()
    return CaseResult(suite=suite, id=case.id, kind=case.kind, abstained=ran.briefing.abstained,
                      metrics=case_metrics(case, ran.briefing, judges[1], article_ids, ran.latency, verifier=judges[0]),
                      actions={a: counts[a] for a in ACTIONS}, briefing_file=str(ran.saved), **detail)
