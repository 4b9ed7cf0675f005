"""Scoring saved briefings: citation coverage, ALCE citation recall and precision, unsupported
sentences, key-fact recall, abstention and answer accuracy, with bootstrap intervals over cases.

Pure: every function takes briefings, cases and judges and returns figures; nothing is read,
written or run here (``evaluate.run`` does that).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from pydantic import BaseModel, Field

from briefing.answer.judge import Judge
from briefing.answer.verify import enclosing_sentences
from briefing.errors import OptionError
from briefing.evaluate.cases import EvalCase
from briefing.evaluate.details import CaseDetail, fact_checks, forbidden_found
from briefing.models import Briefing, CheckedSentence, Verdict

METRICS = ("citation_coverage", "citation_recall", "citation_precision", "unsupported_rate", "verifier_citation_recall",
           "judge_agreement", "key_fact_recall", "abstention_accuracy", "answer_accuracy", "forbidden_free", "tokens",
           "latency_s")


def cited_texts(sentence: CheckedSentence, briefing: Briefing) -> list[str]:
    """The source sentences each valid citation points at, as the verifier showed them to the judge."""
    by_key = {e.key: e for e in briefing.evidence}
    texts = []
    for citation in sentence.citations:
        evidence = by_key.get(citation.key)
        if citation.valid and evidence and citation.start is not None and citation.end is not None:
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
    return sum(fact.found for fact in fact_checks(case, briefing, article_ids)) / len(case.must_include)


def _answered(case: EvalCase, briefing: Briefing, article_ids: dict[str, set[str]]) -> float | None:
    """Answerable ask cases: 1.0 when the answer states every key fact, citing an article that
    states it, and did not abstain; None for other cases."""
    if case.kind != "ask" or case.unanswerable or not case.must_include:
        return None
    return float(not briefing.abstained and key_fact_recall(case, briefing, article_ids) == 1.0)


def unsupported_rate(sentences: list[CheckedSentence], briefing: Briefing, judge: CachedJudge) -> float | None:
    """Share of ``sentences`` that their cited texts do not support, by ``judge``; None for none."""
    if not sentences:
        return None
    return sum(not judge.supports(s.text, cited_texts(s, briefing) or [""]) for s in sentences) / len(sentences)


def judge_agreement(sentences: list[CheckedSentence], briefing: Briefing, a: Judge, b: Judge) -> float | None:
    """Share of ``sentences`` on which judges ``a`` and ``b`` give the same verdict (cited texts together)."""
    pairs = [(s.text, cited_texts(s, briefing) or [""]) for s in sentences]
    if not pairs:
        return None
    return sum(a.judge(text, texts).supported == b.judge(text, texts).supported for text, texts in pairs) / len(pairs)


def case_metrics(case: EvalCase, briefing: Briefing, scorer: Judge, article_ids: dict[str, set[str]],
                 latency: float, verifier: Judge | None = None) -> dict[str, float | None]:
    """The case's metrics. ``scorer`` scores citations; ``verifier`` (the run's judge) adds its own
    citation recall and its agreement with the scorer."""
    checked, visible = briefing.sentences(), briefing.shown()
    scorer, verifier = CachedJudge(scorer), CachedJudge(verifier) if verifier is not None else None
    recall, precision = alce_citation_scores(visible, briefing, scorer)
    return {
        "citation_coverage": (sum(any(c.valid for c in s.citations) for s in checked) / len(checked)) if checked else None,
        "citation_recall": recall,
        "citation_precision": precision,
        "unsupported_rate": unsupported_rate(visible, briefing, scorer),
        "verifier_citation_recall": alce_citation_scores(visible, briefing, verifier)[0] if verifier else None,
        "judge_agreement": judge_agreement(visible, briefing, scorer, verifier) if verifier else None,
        "key_fact_recall": None if briefing.abstained else key_fact_recall(case, briefing, article_ids),
        "abstention_accuracy": float(briefing.abstained == case.unanswerable) if case.kind == "ask" else None,
        "answer_accuracy": _answered(case, briefing, article_ids),
        "forbidden_free": _forbidden_free(case, briefing),
        "tokens": float(briefing.usage.prompt_tokens + briefing.usage.completion_tokens),
        "latency_s": round(latency, 3),
    }


def _forbidden_free(case: EvalCase, briefing: Briefing) -> float | None:
    if not case.must_not_include:
        return None
    return float(not forbidden_found(case, briefing))


def bootstrap(values: list[float], resamples: int = 2000, seed: int = 7) -> tuple[float, float, float]:
    """Mean and 95% percentile bootstrap interval over cases (seeded, so reports are repeatable)."""
    data = np.asarray(values, dtype=float)
    if len(data) == 1:
        return float(data[0]), float(data[0]), float(data[0])
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    return float(data.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


# --- reports ---------------------------------------------------------------------------------


class CaseResult(CaseDetail):
    """A scored case: its metrics and verification's actions, beside what it asked for and what
    its output did (``CaseDetail``: facts found or missed, every sentence's verdict, what was missed)."""

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
        values = [value for r in results if (value := r.metrics.get(metric)) is not None]
        if values:
            mean, low, high = bootstrap(values)
            out[metric] = Interval(mean=round(mean, 4), low=round(low, 4), high=round(high, 4), n=len(values))
    return out


def check_fail_under(report: EvalReport, thresholds: list[str]) -> list[str]:
    """``METRIC=VALUE`` rules; returns the ones the report's aggregate falls below."""
    failures = []
    for rule in thresholds:
        name, _, value = rule.partition("=")
        if name not in METRICS or not value:
            raise OptionError(f"--fail-under takes METRIC=VALUE with METRIC one of {', '.join(METRICS)}; got {rule!r}")
        if name not in report.aggregate:
            failures.append(f"{name}: no case measured it")
        elif report.aggregate[name].mean < float(value):
            failures.append(f"{name} = {report.aggregate[name].mean:.3f} < {float(value):.3f}")
    return failures


def summary_json(report: EvalReport) -> dict:
    """The report's headline figures as printed by `briefing eval --json`."""
    return {"provider": report.provider, "model": report.model, "judge": report.judge,
            "scoring_judge": report.scoring_judge, "commit": report.commit,
            "skipped": {s.suite: s.skipped for s in report.suites if s.skipped},
            **{name: value.model_dump() for name, value in report.aggregate.items()}}
