"""Faithfulness evaluation: run suites of brief/ask cases, save each result, then score the saved
briefings: citation coverage, ALCE citation recall and precision, unsupported sentences after
verification, repair actions, key-fact recall, abstention accuracy, tokens and latency.

Two judges play two roles. The *verifier* (``--judge``, BRIEFING_JUDGE) decided during the run
which sentences were kept. The *scorer* (``--scoring-judge``, BRIEFING_EVAL_JUDGE; by default a
different judge, ``judges.scoring_judge_for``) scores citation recall, precision and the
unsupported rate afterwards, so those figures are not 1.0 by construction. The verifier's own
citation recall and how often the two judges agree on a shown sentence are reported beside them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable
from datetime import date, datetime, time as clock, timedelta, timezone
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from briefing.errors import BriefingError, InputError
from briefing.judge import Judge
from briefing.models import Briefing, CheckedSentence, RetrievalFilter
from briefing.settings import Settings

METRICS = ("citation_coverage", "citation_recall", "citation_precision", "unsupported_rate", "verifier_citation_recall",
           "judge_agreement", "key_fact_recall", "abstention_accuracy", "answer_accuracy", "forbidden_free", "tokens",
           "latency_s")  # fmt: skip


# --- case files ------------------------------------------------------------------------------


class KeyFact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fact: str = Field(description="Case-insensitive regex the output must state.")
    articles: list[str] = Field(default_factory=list, description="Articles that state it: file names or item ids.")

    @field_validator("fact")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regex ({exc})") from None
        return value


class EvalCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    kind: Literal["brief", "ask"]
    query: str = Field(min_length=3)
    since: date | datetime | None = None
    until: date | datetime | None = None
    publishers: list[str] = Field(default_factory=list)
    unanswerable: bool = False
    must_include: list[KeyFact] = Field(default_factory=list)
    must_not_include: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> EvalCase:
        if self.unanswerable and self.kind != "ask":
            raise ValueError("unanswerable applies to ask cases only")
        if self.unanswerable and self.must_include:
            raise ValueError("an unanswerable case has no must_include facts")
        return self

    def filters(self) -> RetrievalFilter:
        return RetrievalFilter(since=_bound(self.since, end=False), until=_bound(self.until, end=True), publishers=self.publishers)


def _bound(value: date | datetime | None, end: bool) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or timezone.utc) if value else None
    start = datetime.combine(value, clock(), timezone.utc)
    return start + timedelta(days=1) - timedelta(microseconds=1) if end else start


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suite: str
    description: str = ""
    corpus: str = Field(description="File or folder the cases run on, relative to the suite file.")
    corpus_env: str | None = Field(None, description="Environment variable that may point the corpus elsewhere.")
    cases: list[EvalCase] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Suite:
        seen = [c.id for c in self.cases]
        twice = sorted({i for i in seen if seen.count(i) > 1})
        if twice:
            raise ValueError(f"duplicate case ids: {', '.join(twice)}")
        return self


def load_suite(path: Path) -> Suite:
    """A suite from YAML (`suite`, `corpus`, `cases`) or JSONL (a header line, then one case a line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(str(path), f"cannot read suite ({exc.strerror or exc})") from None
    try:
        if path.suffix == ".jsonl":
            lines = [json.loads(line) for line in text.splitlines() if line.strip()]
            data = {**(lines[0] if lines else {}), "cases": lines[1:]}
        else:
            data = yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise InputError(str(path), f"cannot parse suite ({str(exc).splitlines()[0]})") from None
    try:
        return Suite.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "suite"
        raise InputError(str(path), f"{where}: {problem['msg']}") from None


def suite_files(target: Path) -> list[Path]:
    if target.is_dir():
        return sorted(p for p in target.iterdir() if p.suffix in {".yaml", ".yml", ".jsonl"})
    return [target]


def corpus_of(suite: Suite, suite_file: Path) -> Path:
    override = os.environ.get(suite.corpus_env) if suite.corpus_env else None
    return Path(override) if override else (suite_file.parent / suite.corpus).resolve()


# --- metrics ---------------------------------------------------------------------------------


def shown(briefing: Briefing) -> list[CheckedSentence]:
    return [s for s in briefing.sentences() if s.shown]


def cited_texts(sentence: CheckedSentence, briefing: Briefing) -> list[str]:
    """The source sentences each valid citation points at, as the verifier showed them to the judge."""
    from briefing.verify import enclosing_sentences

    by_key = {e.key: e for e in briefing.evidence}
    texts = []
    for citation in sentence.citations:
        evidence = by_key.get(citation.key)
        if citation.valid and evidence and citation.start is not None:
            start, end = enclosing_sentences(evidence.text, citation.start - evidence.start, citation.end - evidence.start)
            texts.append(evidence.text[start:end])
    return texts


class CachedJudge:
    """A judge whose verdicts are remembered per (claim, cited texts): scoring asks the same twice."""

    def __init__(self, judge: Judge):
        self.judge_ = judge
        self.name = judge.name
        self._seen: dict[tuple[str, tuple[str, ...]], bool] = {}

    def supports(self, claim: str, texts: list[str]) -> bool:
        key = (claim, tuple(texts))
        if key not in self._seen:
            self._seen[key] = self.judge_.judge(claim, texts).supported
        return self._seen[key]

    def judge(self, claim: str, texts: list[str]):
        from briefing.models import Verdict

        supported = self.supports(claim, texts)
        return Verdict(supported=supported, score=float(supported), reason="", judge=self.name)


def alce_citation_scores(sentences: list[CheckedSentence], briefing: Briefing, judge: Judge) -> tuple[float | None, float | None]:
    """ALCE citation recall and precision over ``sentences``.

    Recall: share of sentences whose cited texts, taken together, support them. Precision: share of
    citations that count: those of supported sentences, except a citation that does not support
    the sentence on its own while the other citations still do (irrelevant).
    """
    if not sentences:
        return None, None
    supported_sentences = 0
    counted = total = 0
    for sentence in sentences:
        texts = cited_texts(sentence, briefing)
        total += len(texts)
        if not texts or not judge.judge(sentence.text, texts).supported:
            continue
        supported_sentences += 1
        for i, text in enumerate(texts):
            others = texts[:i] + texts[i + 1 :]
            irrelevant = others and not judge.judge(sentence.text, [text]).supported and judge.judge(sentence.text, others).supported
            counted += not irrelevant
    return supported_sentences / len(sentences), (counted / total if total else None)


def key_fact_recall(case: EvalCase, briefing: Briefing, article_ids: dict[str, set[str]]) -> float | None:
    """Share of must_include facts stated by a shown sentence that cites one of the listed articles."""
    if not case.must_include:
        return None
    by_key = {e.key: e for e in briefing.evidence}
    found = 0
    for fact in case.must_include:
        wanted = set().union(*(article_ids.get(ref, set()) for ref in fact.articles)) if fact.articles else None
        pattern = re.compile(fact.fact, re.IGNORECASE)
        for sentence in shown(briefing):
            cited = {by_key[c.key].article_id for c in sentence.citations if c.valid and c.key in by_key}
            if pattern.search(sentence.text) and (wanted is None or cited & wanted):
                found += 1
                break
    return found / len(case.must_include)


def _answered(case: EvalCase, briefing: Briefing, article_ids: dict[str, set[str]]) -> float | None:
    """Answerable ask cases: 1.0 when the answer states every key fact, citing an article that
    states it, and did not abstain; None for other cases."""
    if case.kind != "ask" or case.unanswerable or not case.must_include:
        return None
    return float(not briefing.abstained and key_fact_recall(case, briefing, article_ids) == 1.0)


def judge_agreement(sentences: list[CheckedSentence], briefing: Briefing, a: Judge, b: Judge) -> float | None:
    """Share of ``sentences`` on which judges ``a`` and ``b`` give the same verdict (cited texts together)."""
    pairs = [(s.text, cited_texts(s, briefing) or [""]) for s in sentences]
    if not pairs:
        return None
    return sum(a.judge(text, texts).supported == b.judge(text, texts).supported for text, texts in pairs) / len(pairs)


def case_metrics(case: EvalCase, briefing: Briefing, scorer: Judge, article_ids: dict[str, set[str]],
                 latency: float, verifier: Judge | None = None) -> dict[str, float | None]:  # fmt: skip
    """The case's metrics. ``scorer`` scores citations; ``verifier`` (the run's judge) adds its own
    citation recall and its agreement with the scorer."""
    checked, visible = briefing.sentences(), shown(briefing)
    scorer, verifier = CachedJudge(scorer), CachedJudge(verifier) if verifier is not None else None
    recall, precision = alce_citation_scores(visible, briefing, scorer)
    text = "\n".join(s.text for s in visible)
    return {
        "citation_coverage": (sum(any(c.valid for c in s.citations) for s in checked) / len(checked)) if checked else None,
        "citation_recall": recall,
        "citation_precision": precision,
        "unsupported_rate": (sum(not scorer.supports(s.text, cited_texts(s, briefing) or [""]) for s in visible) / len(visible)) if visible else None,
        "verifier_citation_recall": alce_citation_scores(visible, briefing, verifier)[0] if verifier else None,
        "judge_agreement": judge_agreement(visible, briefing, scorer, verifier) if verifier else None,
        "key_fact_recall": None if briefing.abstained else key_fact_recall(case, briefing, article_ids),
        "abstention_accuracy": float(briefing.abstained == case.unanswerable) if case.kind == "ask" else None,
        "answer_accuracy": _answered(case, briefing, article_ids),
        "forbidden_free": float(not any(re.search(p, text, re.IGNORECASE) for p in case.must_not_include)) if case.must_not_include else None,
        "tokens": float(briefing.usage.prompt_tokens + briefing.usage.completion_tokens),
        "latency_s": round(latency, 3),
    }  # fmt: skip


def bootstrap(values: list[float], resamples: int = 2000, seed: int = 7) -> tuple[float, float, float]:
    """Mean and 95% percentile bootstrap interval over cases (seeded, so reports are repeatable)."""
    data = np.asarray(values, dtype=float)
    if len(data) == 1:
        return float(data[0]), float(data[0]), float(data[0])
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    return float(data.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


# --- reports ---------------------------------------------------------------------------------


class CaseResult(BaseModel):
    suite: str
    id: str
    kind: str
    metrics: dict[str, float | None]
    actions: dict[str, int]
    abstained: bool
    briefing_file: str | None = None
    error: str | None = None


class Interval(BaseModel):
    mean: float
    low: float
    high: float
    n: int


class SuiteRun(BaseModel):
    suite: str
    file: str
    corpus: str
    skipped: str | None = None
    cases: list[CaseResult] = Field(default_factory=list)


class EvalReport(BaseModel):
    created_at: datetime
    commit: str | None
    provider: str
    model: str
    judge: str = Field(description="The verifier: the judge that decided which sentences were kept.")
    scoring_judge: str | None = Field(None, description="The judge that scored citation recall and precision.")
    settings: dict
    suites: list[SuiteRun]
    aggregate: dict[str, Interval]
    actions: dict[str, int]


def aggregate(results: list[CaseResult]) -> dict[str, Interval]:
    out = {}
    for metric in METRICS:
        values = [r.metrics[metric] for r in results if r.metrics.get(metric) is not None]
        if values:
            mean, low, high = bootstrap(values)
            out[metric] = Interval(mean=round(mean, 4), low=round(low, 4), high=round(high, 4), n=len(values))
    return out


def git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).resolve().parent)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def check_fail_under(report: EvalReport, thresholds: list[str]) -> list[str]:
    """``METRIC=VALUE`` rules; returns the ones the report's aggregate falls below."""
    failures = []
    for rule in thresholds:
        name, _, value = rule.partition("=")
        if name not in METRICS or not value:
            raise BriefingError(f"--fail-under takes METRIC=VALUE with METRIC one of {', '.join(METRICS)}; got {rule!r}")
        if name not in report.aggregate:
            failures.append(f"{name}: no case measured it")
        elif report.aggregate[name].mean < float(value):
            failures.append(f"{name} = {report.aggregate[name].mean:.3f} < {float(value):.3f}")
    return failures


# --- running suites --------------------------------------------------------------------------


def run_suites(
    target: Path,
    settings: Settings,
    *,
    out_dir: Path,
    provider: str | None = None,
    judge: str | None = None,
    scoring_judge: str | None = None,
    resume: bool = True,
    chat_model=None,
    embedder=None,
    progress: Callable[[str, int], Callable[[], None]] | None = None,
) -> EvalReport:
    """Run every case of every suite in ``target``, save each briefing, and score the saved files
    with ``scoring_judge`` (default: BRIEFING_EVAL_JUDGE, else a judge other than the verifier's)."""
    from briefing.brief import models_for
    from briefing.judges import make_judge, scoring_judge_for
    from briefing.llm import model_name

    provider_name, llm, checker = models_for(settings, provider, judge, chat_model)
    scoring = scoring_judge or settings.eval_judge or scoring_judge_for(checker.name)
    scorer = checker if scoring == checker.name else make_judge(scoring, llm, settings.threads)
    runs, results = [], []
    for path in suite_files(target):
        suite = load_suite(path)
        corpus = corpus_of(suite, path)
        run = SuiteRun(suite=suite.suite, file=str(path), corpus=str(corpus))
        runs.append(run)
        if not corpus.exists():
            run.skipped = f"corpus not found: {corpus}" + (f" (set {suite.corpus_env})" if suite.corpus_env else "")
            continue
        home = settings.home / "eval" / suite.suite
        suite_settings = settings.model_copy(update={"home": home})
        article_ids = _prepare_corpus(corpus, suite_settings, suite, embedder)
        tick = progress(f"{suite.suite} ({provider_name})", len(suite.cases)) if progress else None
        for case in suite.cases:
            result = _run_case(case, suite, suite_settings, out_dir, provider_name, judge, (checker, scorer), article_ids,
                               resume, chat_model, embedder)  # fmt: skip
            run.cases.append(result)
            results.append(result)
            if tick:
                tick()
    actions = {a: sum(r.actions.get(a, 0) for r in results) for a in ("kept", "repaired", "replaced", "dropped")}
    return EvalReport(created_at=datetime.now(timezone.utc), commit=git_commit(), provider=provider_name,
                      model=llm.model if llm else model_name(settings, provider_name), judge=checker.name,
                      scoring_judge=scorer.name, settings=settings.public(), suites=runs, aggregate=aggregate(results), actions=actions)  # fmt: skip


def _prepare_corpus(corpus: Path, settings: Settings, suite: Suite, embedder) -> dict[str, set[str]]:
    """Ingest the corpus into the suite's own store (idempotent) and resolve the cases' article refs."""
    from briefing.ingest import ingest
    from briefing.store import open_catalog

    ingest([corpus], settings, embedder=embedder)
    catalog = open_catalog(settings)
    refs = {ref for case in suite.cases for fact in case.must_include for ref in fact.articles}
    return {ref: catalog.article_ids_for(ref) for ref in refs}


def _run_case(case, suite, settings, out_dir, provider, judge, judges, article_ids, resume, chat_model, embedder) -> CaseResult:
    from briefing.brief import answer_question, write_brief
    from briefing.render import write_atomic

    saved = out_dir / "cases" / suite.suite / provider / f"{case.id}.json"
    briefing, latency = None, 0.0
    if resume and saved.exists():
        try:
            stored = json.loads(saved.read_text(encoding="utf-8"))
            briefing, latency = Briefing.model_validate(stored["briefing"]), stored["latency_s"]
        except (OSError, ValueError, KeyError, ValidationError):
            briefing = None
    if briefing is None:
        run = answer_question if case.kind == "ask" else write_brief
        started = time.perf_counter()
        try:
            briefing = run(case.query, settings, provider=provider, judge=judge, filters=case.filters(),
                           chat_model=chat_model, embedder=embedder)  # fmt: skip
        except BriefingError as exc:
            return CaseResult(suite=suite.suite, id=case.id, kind=case.kind, metrics={}, actions={}, abstained=False, error=str(exc))
        latency = time.perf_counter() - started
        write_atomic(saved, json.dumps({"case": case.model_dump(mode="json"), "latency_s": latency,
                                        "briefing": briefing.model_dump(mode="json")}, indent=2) + "\n")  # fmt: skip
    counts = briefing.counts()
    return CaseResult(suite=suite.suite, id=case.id, kind=case.kind, abstained=briefing.abstained,
                      metrics=case_metrics(case, briefing, judges[1], article_ids, latency, verifier=judges[0]),
                      actions={a: counts[a] for a in ("kept", "repaired", "replaced", "dropped")}, briefing_file=str(saved))  # fmt: skip
