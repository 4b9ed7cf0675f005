"""Snapshot tests of the Markdown, JSON and HTML renderings of one fixed, verified brief.

Regenerate the snapshots after an intended change with `UPDATE_SNAPSHOTS=1 pytest tests/test_render.py`.
"""

import html
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from briefing.answer.judge import LexicalJudge
from briefing.answer.verify import Verifier
from briefing.models import Briefing, Draft, DraftCitation, DraftSentence, RetrievalFilter
from briefing.output.files import write_atomic
from briefing.output.render import render, to_markdown
from tests.test_verify import EVIDENCE, GOOD, NIS, PENTAGON

SNAPSHOTS = Path(__file__).parent / "snapshots"


def fixed_briefing() -> Briefing:
    draft = Draft(
        headline=DraftSentence(text="North Korean soldiers are in the Kursk region, according to the Pentagon.",
                               citations=[DraftCitation(key=PENTAGON.key, quote="North Korean soldiers are now in Russia's Kursk region")]),
        sentences=[
            GOOD.model_copy(update={"text": "The Pentagon said at least 10,000 North Korean soldiers are now in the Kursk region."}),
            DraftSentence(section="Where sources disagree", text="Seoul's spy agency said about 3,000 North Korean soldiers had arrived by Oct. 23.",
                          citations=[DraftCitation(key=NIS.key, quote="about 3,000 North Korean soldiers had arrived in Russia by Oct. 23")]),
            DraftSentence(section="Key developments", text="Ukraine's defence minister said 500 soldiers were captured.",
                          citations=[DraftCitation(key=PENTAGON.key, quote="Ukraine's defence minister said")]),
            DraftSentence(section="What to watch", text="Peace talks begin next week.", citations=[]),
        ],
    )
    headline, sections = Verifier(EVIDENCE, LexicalJudge()).verify(draft)
    return Briefing(
        query="North Korean troops in Kursk", headline=headline, sections=sections, evidence=EVIDENCE,
        filters=RetrievalFilter(since=datetime(2024, 10, 1, tzinfo=UTC), until=datetime(2024, 11, 30, tzinfo=UTC)),
        provider="openai", model="gpt-4o-mini", judge="lexical", created_at=datetime(2024, 12, 1, 8, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize("fmt", ["md", "json", "html"])
def test_rendering_matches_snapshot(fmt):
    rendered = render(fixed_briefing(), fmt)
    path = SNAPSHOTS / f"brief.{fmt}"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8")


def test_markdown_has_footnotes_sources_and_the_verification_footer():
    markdown = to_markdown(fixed_briefing())
    assert markdown.startswith("# North Korean soldiers are in the Kursk region, according to the Pentagon. [1]\n")
    assert "Peace talks" not in markdown
    assert "1. Pacific Desk (sample), “Pentagon puts force at 10,000”, 2024-11-05. <https://pacific-desk.example/1>" in markdown
    assert "\nDrafted by gpt-4o-mini; every sentence checked against its sources.\n" in markdown
    assert markdown.rstrip().endswith(
        "4 sentences: 3 written by gpt-4o-mini and checked against their sources; 1 quoted word for word from the "
        "sources (1 in place of drafted sentences that failed the check) · 1 removed (unsupported, uncited or a repeat) "
        "· judge=lexical · model=gpt-4o-mini"
    )
    assert "- “Ukraine's defence minister" in markdown  # the source's own words, shown as a quotation


def test_an_extractive_brief_says_it_quotes_its_sources_and_never_says_verified():
    from briefing.answer.leads import extractive_story_brief, story_leads
    from briefing.answer.stories import Gathered, group, rank
    from briefing.models import RetrievalFilter
    from tests.conftest import HashingEmbedder

    embedder = HashingEmbedder()
    vectors = dict(zip([e.key for e in EVIDENCE], embedder.embed([e.text for e in EVIDENCE])))
    stories = rank(group(EVIDENCE, vectors), RetrievalFilter(), set())
    gathered = Gathered({e.key: e for e in EVIDENCE}, vectors, stories)
    draft = extractive_story_brief(story_leads("North Korean troops in Kursk", gathered, stories, embedder), gathered)
    headline, sections = Verifier(EVIDENCE, LexicalJudge()).verify(draft)
    brief = fixed_briefing().model_copy(update={"headline": headline, "sections": sections, "provider": "extractive",
                                                "model": "none"})
    shown, removed = len(brief.shown()), brief.counts()["dropped"]
    dropped = f" · {removed} removed (unsupported, uncited or a repeat)" if removed else ""
    for page in (to_markdown(brief), html.unescape(render(brief, "html"))):
        assert "Written from the sources' own sentences (no language model)." in page
        assert f"{shown} sentences, each quoted word for word from its source{dropped} · judge=lexical · no language model" in page
        assert "verified" not in page.lower() and "Drafted by" not in page


def test_json_is_self_contained_for_audit():
    data = json.loads(render(fixed_briefing(), "json"))
    evidence = {e["key"]: e for e in data["evidence"]}
    for section in data["sections"]:
        for sentence in section["sentences"]:
            for citation in (c for c in sentence["citations"] if c["valid"]):
                assert citation["quote"] in evidence[citation["key"]]["text"]
    assert Briefing.model_validate(data) == fixed_briefing()


def test_html_citations_carry_the_quote_and_link_to_sources():
    page = render(fixed_briefing(), "html")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert 'href="#source-1"' in page and 'id="source-1"' in page
    assert "“at least 10,000 North Korean soldiers are now in Russia&#x27;s Kursk region” — Pacific Desk (sample)" in page


def test_write_atomic_replaces_the_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out" / "brief.md"
    write_atomic(target, "first")
    write_atomic(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["brief.md"]


def test_a_brief_whose_every_sentence_was_dropped_says_so():
    """Evidence was found but nothing verified: the rendering says why it is empty, in both formats."""
    from briefing.models import Briefing, CheckedSentence, RetrievalFilter, Section, Verdict
    from briefing.output.render import NOTHING_VERIFIED, to_html, to_markdown
    from tests.test_verify import EVIDENCE

    dropped = CheckedSentence(section="Key developments", text="Invented.", citations=[], action="dropped",
                              verdict=Verdict(supported=False, score=0.0, reason="no citation", judge="lexical"))
    brief = Briefing(query="q", sections=[Section(title="Key developments", sentences=[dropped])], evidence=EVIDENCE[:1],
                     filters=RetrievalFilter(), provider="extractive", model="none", judge="lexical",
                     created_at=datetime.now(UTC))
    assert NOTHING_VERIFIED in to_markdown(brief)
    assert NOTHING_VERIFIED in to_html(brief)


def test_a_model_brief_whose_model_sentences_all_failed_says_the_text_is_the_sources():
    from briefing.output.render import NONE_KEPT, provenance

    brief = fixed_briefing()
    only_quotes = [s for s in brief.sentences() if s.verbatim]
    quoted = brief.model_copy(update={"headline": None, "sections": [brief.sections[0].model_copy(update={"sentences": only_quotes})]})
    assert provenance(quoted) == NONE_KEPT.format(model="gpt-4o-mini")
    assert provenance(brief) == "Drafted by gpt-4o-mini; every sentence checked against its sources."


def test_the_window_is_shown_in_utc_whatever_offset_it_was_given_in():
    from datetime import timedelta, timezone

    from briefing.output.render import scope

    eastern = timezone(timedelta(hours=-5))
    brief = fixed_briefing().model_copy(update={"filters": RetrievalFilter(since=datetime(2024, 11, 5, 12, tzinfo=eastern)),
                                                "evidence": EVIDENCE[:1]})
    assert scope(brief) == "“North Korean troops in Kursk” · published 2024-11-05 17:00 – … UTC · 1 evidence chunk"
