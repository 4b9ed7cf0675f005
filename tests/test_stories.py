"""Briefs made of stories: the relevance gate, grouping reports of one event, salience, the
headline, --length, the JSON's stories, and a daily brief that gives each story to one topic.

The sample corpus is embedded by the hashing fake (see conftest) unless a test says otherwise;
the gate's coefficients are the shipped ones, fitted for all-MiniLM-L6-v2, so these tests check
what the code does with its scores, not how good the scores are (evals/briefs measures that)."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from briefing.answer.stories import Gate, Gathered, group, hyphenated, keyword_coverage, rank
from briefing.daily import ELSEWHERE, exclusive, load_topics, make_daily
from briefing.ingest.run import ingest
from briefing.models import Evidence, RetrievalFilter, Story
from briefing.output.render import render
from briefing.pipeline import Components, write_brief
from briefing.settings import Settings
from tests.conftest import CORPUS

DAY = datetime(2024, 11, 5, 12, tzinfo=UTC)


def chunk(key: str, article: str, text: str, publisher: str = "A", when: datetime = DAY, score: float = 0.9) -> Evidence:
    return Evidence(key=key, article_id=article, text=text, start=0, title=text.split(".")[0], publisher=publisher,
                    published=when, score=score, similarity=score)


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_keyword_coverage_weighs_rare_words_more():
    weights = {"sanction": 3.0, "russia": 0.5}
    assert keyword_coverage(weights, "New sanction on shipping firms") == pytest.approx(3.0 / 3.5)
    assert keyword_coverage(weights, "Russia said so") == pytest.approx(0.5 / 3.5)
    assert keyword_coverage({}, "anything") == 0.0


def test_the_parts_of_a_hyphenated_topic_word_count_only_together():
    weights = {"anti": 2.0, "war": 1.0}
    assert keyword_coverage(weights, "An anti-war teacher was fined", ["anti-war"]) == pytest.approx(1.0)
    assert keyword_coverage(weights, "An antiwar teacher was fined", ["anti-war"]) == pytest.approx(0.0)  # no token "anti"
    assert keyword_coverage(weights, "Anti-landmine groups criticise the war", ["anti-war"]) == 0.0
    assert keyword_coverage(weights, "Anti-landmine groups criticise the war") == pytest.approx(1.0)  # without the rule
    assert hyphenated("prosecution of anti-war activists in the Iran-Iraq border region") == ["anti-war"]


def test_the_gate_rises_with_similarity_and_coverage():
    gate = Gate.configured()
    assert gate.probability(0.2, 0.0) < gate.probability(0.5, 0.0) < gate.probability(0.5, 0.8)
    assert gate.probability(0.1, 0.0) < gate.cut <= gate.probability(0.6, 0.7)


def test_reports_of_one_event_form_one_story_and_others_stay_apart():
    a = chunk("a-0", "a", "Spain fined a firm 12,500 euros for exports.", "Outlet One")
    b = chunk("b-0", "b", "A Spanish firm was fined 12,500 euros.", "Outlet Two", DAY + timedelta(hours=5))
    late = chunk("c-0", "c", "Spain fined a firm 12,500 euros for exports.", "Outlet Three", DAY + timedelta(days=20))
    other = chunk("d-0", "d", "Storms closed the port.", "Outlet One")
    vectors = {"a-0": unit(1, 0.2, 0), "b-0": unit(1, 0.5, 0), "c-0": unit(1, 0.2, 0), "d-0": unit(0, 0, 1)}
    groups = group([a, b, late, other], vectors)
    keys = sorted(sorted(e.key for e in g) for g in groups)
    assert keys == [["a-0", "b-0"], ["c-0"], ["d-0"]]  # a shared figure and close vectors; weeks apart is another story


def test_salience_counts_outlets_and_novelty():
    one = [chunk("a-0", "a", "Event one happened.", "Outlet One")]
    two = [chunk("b-0", "b", "Event two happened.", "Outlet One"), chunk("c-0", "c", "Event two happened.", "Outlet Two")]
    stories = rank([one, two], RetrievalFilter(), reported=set())
    assert [s.article_ids for s in stories] == [["b", "c"], ["a"]] and stories[0].outlets == ["Outlet One", "Outlet Two"]
    again = rank([one, two], RetrievalFilter(), reported={"b-0"})
    assert again[0].article_ids == ["a"] and again[1].reported_before


@pytest.fixture
def corpus(fake_embedder):
    settings = Settings()
    ingest([CORPUS], Components(settings, embedder=fake_embedder))
    return settings


def test_a_brief_shows_length_stories_listed_in_its_json(corpus, fake_embedder):
    components = Components(corpus, provider="extractive", embedder=fake_embedder)
    brief = write_brief("North Korean troops in the Kursk region", components, length=2)
    capped = write_brief("North Korean troops in the Kursk region", components, length=2, k=1)
    assert all(len(story.keys) == 1 and len(story.article_ids) == 1 for story in capped.stories)  # -k 1: one chunk a story
    assert 1 <= len(brief.stories) <= 2
    data = json.loads(render(brief, "json"))
    publisher = {e["key"]: e["publisher"] for e in data["evidence"]}
    for story in data["stories"]:
        assert story["outlets"] and story["keys"] and set(story["keys"]) <= set(publisher)
        assert set(story["outlets"]) == {publisher[k] for k in story["keys"]}  # the outlets of the chunks it holds
    cited = {c.key for s in brief.shown() for c in s.citations if c.valid}
    assert cited <= {key for story in brief.stories for key in story.keys}  # nothing cited outside the chosen stories


def test_an_off_topic_story_never_passes_the_gate(corpus, fake_embedder):
    brief = write_brief("North Korean troops in the Kursk region", Components(corpus, provider="extractive", embedder=fake_embedder))
    titles = " ".join(story.title for story in brief.stories).lower()
    assert brief.stories and "frost" not in titles and "e-reader" not in titles and "cup" not in titles


def test_the_headline_is_a_dated_story_when_there_is_one():
    from briefing.answer.leads import Lead, headline_story

    undated = Story(id="s1", title="Memo", keys=["m-0"], article_ids=["m"], outlets=["X"], relevance=1.0, salience=2.0)
    dated = Story(id="s2", title="News", keys=["n-0"], article_ids=["n"], outlets=["Y"], relevance=0.9, salience=1.0,
                  last_published=DAY)
    assert headline_story([Lead(undated, [object()]), Lead(dated, [object()])]).story.id == "s2"  # type: ignore[list-item]


def test_a_story_found_by_two_topics_goes_to_the_one_it_fits_best():
    def found(similarity: float) -> Gathered:
        item = chunk("a-0", "a", "Shared event.", score=0.9).model_copy(update={"similarity": similarity})
        story = Story(id="s1", title="Shared event", keys=["a-0"], article_ids=["a"], outlets=["A"], relevance=0.9, salience=1.0)
        return Gathered({"a-0": item}, {"a-0": unit(1, 0)}, [story])

    first, second = exclusive([found(0.4), found(0.6)])
    assert not first.stories and [s.article_ids for s in second.stories] == [["a"]]


def test_a_daily_brief_shows_each_article_in_one_topic_only(corpus, fake_embedder, tmp_path):
    topics_file = tmp_path / "topics.toml"
    topics_file.write_text('[[topic]]\ntitle = "Troops"\nquery = "North Korean troops in Russia"\n\n'
                           '[[topic]]\ntitle = "Kursk"\nquery = "North Korean soldiers in the Kursk region"\n')
    daily = make_daily(datetime(2024, 11, 5).date(), load_topics(topics_file),
                       Components(corpus, provider="extractive", embedder=fake_embedder), out_dir=tmp_path / "briefs",
                       since=datetime(2024, 10, 1, tzinfo=UTC), until=datetime(2024, 12, 31, tzinfo=UTC))
    seen: dict[str, str] = {}
    for topic in daily.topics:
        for story in topic.briefing.stories:
            for article in story.article_ids:
                assert seen.setdefault(article, topic.topic.title) == topic.topic.title
    assert seen  # the window holds stories, and each is under one topic
    assert all(t.briefing.stories or t.note == ELSEWHERE for t in daily.topics)


def test_a_story_keeps_only_what_its_kept_chunks_report():
    first = chunk("a-0", "a", "Event one happened.", "Outlet One", DAY)
    second = chunk("b-0", "b", "Event one happened again.", "Outlet Two", DAY + timedelta(days=1))
    (story,) = rank([[first, second]], RetrievalFilter(), set())
    gathered = Gathered({"a-0": first, "b-0": second}, {"a-0": unit(1, 0), "b-0": unit(1, 0.1)}, [story])
    (one,) = gathered.limited(1).stories
    assert len(one.keys) == 1 and one.article_ids == [gathered.evidence[one.keys[0]].article_id]
    assert len(one.outlets) == 1 and one.first_published == one.last_published
    (left,) = gathered.without({"a"}).stories
    assert left.keys == ["b-0"] and left.outlets == ["Outlet Two"] and left.id == "s1"
    assert gathered.without({"a", "b"}).stories == []


def test_a_story_found_by_two_topics_keeps_its_other_articles_where_it_was():
    shared, own = chunk("a-0", "a", "Shared event.", score=0.9), chunk("b-0", "b", "Shared event, more.", score=0.9)
    story = Story(id="s1", title="Shared event", keys=["a-0", "b-0"], article_ids=["a", "b"], outlets=["A"], relevance=0.9,
                  salience=1.0)
    first = Gathered({"a-0": shared.model_copy(update={"similarity": 0.4}), "b-0": own}, {"a-0": unit(1, 0), "b-0": unit(1, 0)},
                     [story])
    other = Story(id="s1", title="Shared event", keys=["a-0"], article_ids=["a"], outlets=["A"], relevance=0.9, salience=1.0)
    second = Gathered({"a-0": shared.model_copy(update={"similarity": 0.7})}, {"a-0": unit(1, 0)}, [other])
    kept_first, kept_second = exclusive([first, second])
    assert [s.keys for s in kept_first.stories] == [["b-0"]]  # "b" is found by the first topic only: it stays there
    assert [s.keys for s in kept_second.stories] == [["a-0"]]


def test_a_story_the_previous_brief_reported_ranks_lower(fake_embedder):
    from briefing.answer.stories import reported_chunks

    vectors = dict(zip(["a-0", "b-0"], fake_embedder.embed(["Storms closed the port of Varna on Monday.",
                                                            "Parliament passed the budget bill."])))
    assert reported_chunks(vectors, ["Storms closed the port of Varna on Monday."], fake_embedder) == {"a-0"}
    assert reported_chunks(vectors, [], fake_embedder) == set()


def test_another_outlet_is_cited_only_when_it_states_the_lead():
    from briefing.answer.generate import candidate_sentences
    from briefing.answer.leads import cited_by_every_outlet

    lead = chunk("a-0", "a", "The port of Varna closed for three days after 120 ships were stranded.", "Outlet One")
    same = chunk("b-0", "b", "Officials said 120 ships were stranded as the port of Varna closed for three days.", "Outlet Two")
    other = chunk("c-0", "c", "Fishermen in Varna complained about the weather.", "Outlet Three")
    story = Story(id="s1", title="Port", keys=["a-0", "b-0", "c-0"], article_ids=["a", "b", "c"],
                  outlets=["Outlet One", "Outlet Two", "Outlet Three"], relevance=0.9, salience=1.0)
    gathered = Gathered({c.key: c for c in (lead, same, other)}, {}, [story])
    lead = lead.model_copy(update={"title": "Black Sea port shut"})
    gathered.evidence["a-0"] = lead
    candidate = next(c for c in candidate_sentences("port closure", [lead]) if not c.headline)
    drafted = cited_by_every_outlet(candidate, story, gathered)
    assert [c.key for c in drafted.citations] == ["a-0", "b-0"]


def test_the_headline_and_developments_stay_within_the_sentence_budget(fake_embedder):
    from briefing import lexicon
    from briefing.answer.leads import extractive_story_brief, story_leads

    items = [chunk(f"{n}-0", str(n), f"Report {n} says crews repaired {n + 20} bridges in district {n}.", f"Outlet {n}",
                   DAY + timedelta(hours=n)) for n in range(20)]
    vectors = dict(zip([e.key for e in items], fake_embedder.embed([e.text for e in items])))
    stories = rank([[e] for e in items], RetrievalFilter(), set())
    gathered = Gathered({e.key: e for e in items}, vectors, stories)
    draft = extractive_story_brief(story_leads("bridge repairs", gathered, stories, fake_embedder), gathered)
    developments = [s for s in draft.sentences if s.section == "Key developments"]
    assert 1 + len(developments) == int(lexicon.threshold("leads", "sentences"))  # breadth first, up to the budget


def test_a_dropped_headline_is_replaced_by_the_most_salient_storys_sentence():
    from briefing.answer.compose import _promoted
    from briefing.models import CheckedSentence, Citation, Section, Verdict

    def sentence(text: str, key: str, action: str = "kept") -> CheckedSentence:
        return CheckedSentence(section="Key developments", text=text, citations=[Citation(key=key, quote=text)],
                               verdict=Verdict(supported=True, score=1.0, reason="", judge="fake"), action=action)

    stories = [Story(id="s1", title="A", keys=["a-0"], article_ids=["a"], outlets=["A"], relevance=1.0, salience=2.0),
               Story(id="s2", title="B", keys=["b-0"], article_ids=["b"], outlets=["B"], relevance=1.0, salience=1.0)]
    sections = [Section(title="Key developments", sentences=[sentence("Ships left port B.", "b-0"),
                                                             sentence("Ships left port A.", "a-0"),
                                                             sentence("They said so.", "a-0")])]
    headline, rest = _promoted(None, sections, stories)
    assert headline is not None and headline.text == "Ships left port A." and headline.section == "headline"
    assert [s.text for s in rest[0].sentences] == ["Ships left port B.", "They said so."]


def test_a_feed_summary_cut_off_mid_word_is_never_picked():
    from briefing.answer.generate import candidate_sentences

    item = Evidence(key="f-0", article_id="f", start=0, title="Talks stall in Vienna",
                    text="Talks stall in Vienna\nDelegates left the hall after four hours. Trade options range from hard bargaining to simply walking aw")
    texts = [c.text for c in candidate_sentences("talks in Vienna", [item])]
    assert "Delegates left the hall after four hours." in texts
    assert not any(t.endswith("walking aw") for t in texts)


def test_a_further_pick_that_restates_a_shown_one_is_left_out():
    from briefing.answer.generate import candidate_sentences
    from briefing.answer.leads import _restates

    text = ("Ministers agreed to send 40 ferries to the islands. Cabinet ministers agreed to send ferries to the islands soon. "
            "Harbour crews will need two weeks to repair the piers.")
    item = chunk("x-0", "x", text).model_copy(update={"title": "Island ferry plan"})
    first, restating, new = candidate_sentences("ferries to the islands", [item])
    assert _restates(restating, first) and not _restates(new, first)
