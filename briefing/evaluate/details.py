"""What an evaluation report shows of each case, so that a reader can act on it: what the case
asked, its expected facts found or missed, the forbidden patterns that appeared, every checked
sentence with what verification did to it and why, and one line saying what was missed.

Pure, like ``scoring``: a case, its saved briefing (None when the run failed) and the article ids
its facts name go in; Pydantic records come out. ``scoring`` counts facts and forbidden patterns
through ``fact_checks`` and ``forbidden_found`` too, so the report and the metrics agree.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from pydantic import BaseModel, Field

from briefing.evaluate.cases import EvalCase, KeyFact
from briefing.models import Action, Briefing, CheckedSentence, Citation, Verdict


class FactCheck(BaseModel):
    """A ``must_include`` fact, and whether a shown sentence stated it citing an expected article."""

    fact: str = Field(description="The case-insensitive regex the output must state.")
    articles: list[str] = Field(default_factory=list, description="The articles expected to state it (file names or item ids).")
    unknown_articles: list[str] = Field(default_factory=list, description="Those of `articles` that name no article of the corpus.")
    found: bool
    stated_by: str | None = Field(None, description="The shown sentence that states it, citing an expected article.")
    stated_elsewhere: str | None = Field(None, description="When missed: a shown sentence that states it but cites none of `articles`.")


class SentenceCheck(BaseModel):
    """A checked sentence as verification left it: what it did (``action``) and why (``verdict``)."""

    section: str
    text: str = Field(description="The text shown; for a dropped sentence, the drafted text that was not shown.")
    action: Action
    shown: bool
    original: str | None = Field(None, description="The drafted text, when verification repaired, replaced or dropped it.")
    verdict: Verdict = Field(description="The verifier's verdict on `text` (on the repair or replacement, when there is one).")
    citations: list[Citation] = Field(default_factory=list, description="Cited keys and quotes; `problem` says why one is not valid.")


class CaseDetail(BaseModel):
    """What a case asked for and what its output did, beside its metrics."""

    query: str = ""
    since: date | datetime | None = None
    until: date | datetime | None = None
    publishers: list[str] = Field(default_factory=list)
    should_abstain: bool | None = Field(None, description="Ask cases: whether the case is unanswerable; None for briefs.")
    abstain_reason: str | None = None
    facts: list[FactCheck] = Field(default_factory=list)
    forbidden_found: list[str] = Field(default_factory=list, description="`must_not_include` patterns the shown text matched.")
    sentences: list[SentenceCheck] = Field(default_factory=list, description="Every checked sentence, headline first.")
    missed: list[str] = Field(default_factory=list, description="What the case got wrong, one phrase each; empty when nothing.")


def describe(case: EvalCase, briefing: Briefing | None, article_ids: dict[str, set[str]], error: str | None = None) -> CaseDetail:
    """The case's detail: from its briefing, or, when the run failed (``briefing`` None), its
    request, its facts all missed and the error as the one thing missed."""
    asked = CaseDetail(query=case.query, since=case.since, until=case.until, publishers=case.publishers,
                       should_abstain=case.unanswerable if case.kind == "ask" else None)
    if briefing is None:
        facts = [_unmet(fact, article_ids) for fact in case.must_include]
        return asked.model_copy(update={"facts": facts, "missed": [f"the run failed: {error or 'no briefing'}"]})
    facts = fact_checks(case, briefing, article_ids)
    forbidden = forbidden_found(case, briefing)
    return asked.model_copy(update={
        "abstain_reason": briefing.abstain_reason, "facts": facts, "forbidden_found": forbidden,
        "sentences": sentence_checks(briefing), "missed": misses(case, briefing.abstained, facts, forbidden)})


def fact_checks(case: EvalCase, briefing: Briefing, article_ids: dict[str, set[str]]) -> list[FactCheck]:
    """Each ``must_include`` fact: found when a shown sentence states it (its regex matches) and
    cites one of the listed articles (any article when none is listed)."""
    return [_fact_check(fact, briefing, article_ids) for fact in case.must_include]


def _fact_check(fact: KeyFact, briefing: Briefing, article_ids: dict[str, set[str]]) -> FactCheck:
    by_key = {e.key: e for e in briefing.evidence}
    wanted = set().union(*(article_ids.get(ref, set()) for ref in fact.articles)) if fact.articles else None
    pattern = re.compile(fact.fact, re.IGNORECASE)
    stating = [s for s in briefing.shown() if pattern.search(s.text)]
    for sentence in stating:
        cited = {by_key[c.key].article_id for c in sentence.citations if c.valid and c.key in by_key}
        if wanted is None or cited & wanted:
            return _unmet(fact, article_ids).model_copy(update={"found": True, "stated_by": sentence.text})
    return _unmet(fact, article_ids).model_copy(update={"stated_elsewhere": stating[0].text if stating else None})


def _unmet(fact: KeyFact, article_ids: dict[str, set[str]]) -> FactCheck:
    unknown = [ref for ref in fact.articles if not article_ids.get(ref)]
    return FactCheck(fact=fact.fact, articles=fact.articles, unknown_articles=unknown, found=False)


def forbidden_found(case: EvalCase, briefing: Briefing) -> list[str]:
    """The ``must_not_include`` patterns that the shown sentences match."""
    text = "\n".join(s.text for s in briefing.shown())
    return [p for p in case.must_not_include if re.search(p, text, re.IGNORECASE)]


def sentence_checks(briefing: Briefing) -> list[SentenceCheck]:
    """Every checked sentence, headline first, with its action, verdict and citations."""
    return [_sentence_check(s, briefing.is_shown(s)) for s in briefing.sentences()]


def _sentence_check(sentence: CheckedSentence, shown: bool) -> SentenceCheck:
    return SentenceCheck(section=sentence.section, text=sentence.text, action=sentence.action, shown=shown,
                         original=sentence.original, verdict=sentence.verdict, citations=sentence.citations)


def misses(case: EvalCase, abstained: bool, facts: list[FactCheck], forbidden: list[str]) -> list[str]:
    """What the case got wrong, one phrase each: the abstention, each fact missed (and where it
    was expected), each forbidden pattern that appeared."""
    out = []
    if case.kind == "ask" and abstained != case.unanswerable:
        out.append("answered, but should have abstained" if case.unanswerable else "abstained, but should have answered")
    out += [f"fact {fact.fact!r}{_expected(fact)}" for fact in facts if not fact.found]
    out += [f"forbidden {pattern!r} appeared" for pattern in forbidden]
    return out


def _expected(fact: FactCheck) -> str:
    """`` (expected in A, B; …)``: where a missed fact was expected, and why it was not counted."""
    notes = [f"expected in {', '.join(fact.articles)}"] if fact.articles else []
    if fact.unknown_articles:
        notes.append(f"not in the corpus: {', '.join(fact.unknown_articles)}")
    if fact.stated_elsewhere:
        notes.append("stated, but citing other articles")
    return f" ({'; '.join(notes)})" if notes else ""
