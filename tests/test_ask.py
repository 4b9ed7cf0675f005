"""`briefing ask`: short cited answers, and abstention in both directions.

The abstention tests use the real packaged embedder (its similarities set the threshold) and the
extractive provider, so they are deterministic and need no LLM.
"""

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from briefing.ingest.run import ingest
from briefing.models import ABSTAIN, RetrievalFilter
from briefing.output.render import to_markdown
from briefing.pipeline import Components, answer_question, find_evidence
from briefing.settings import Settings
from briefing.text import split_sentences
from tests.conftest import CORPUS

ANSWERABLE = [
    "How many North Korean troops are in the Kursk region?",
    "When did Ukraine first fire ATACMS missiles into Russia?",
    "What is the Oreshnik missile?",
    "How many casualties have North Korean troops suffered?",
    "Did Russia confirm that North Korean troops are in Kursk?",
]
UNANSWERABLE = [
    "What did the Pope say about Kursk?",
    "What did Emmanuel Macron say about North Korean troops?",
    "What is the price of wheat in Kansas?",
    "Which team won the Champions League in 2024?",
]
OFF_TOPIC = UNANSWERABLE[2:]  # no source is close to these: none is listed


@pytest.fixture(scope="module")
def corpus_home(tmp_path_factory, real_embedder):
    home = tmp_path_factory.mktemp("ask-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRIEFING_HOME", str(home))
        ingest([CORPUS], Components(Settings(), embedder=real_embedder))
    return home


@pytest.fixture
def settings(corpus_home, monkeypatch):
    monkeypatch.setenv("BRIEFING_HOME", str(corpus_home))
    return Settings()


@pytest.mark.slow
@pytest.mark.parametrize("question", ANSWERABLE)
def test_answerable_questions_are_answered_with_citations(question, settings, real_embedder):
    answer = answer_question(question, Components(settings, provider="extractive", embedder=real_embedder))
    assert not answer.abstained, answer.abstain_reason
    shown = [s for s in answer.sentences() if s.shown]
    assert 1 <= len(shown) <= 7
    assert all(any(c.valid for c in s.citations) and s.verdict.supported for s in shown)


@pytest.mark.slow
@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_questions_abstain_and_list_only_close_sources(question, settings, real_embedder):
    answer = answer_question(question, Components(settings, provider="extractive", embedder=real_embedder))
    assert answer.abstained and answer.sentences() == []
    markdown = to_markdown(answer)
    assert ABSTAIN in markdown and "No source states" in markdown
    assert ("Closest sources found" in markdown) is (question not in OFF_TOPIC)


@pytest.mark.slow
def test_troop_question_is_answered_with_a_troop_figure(settings, real_embedder):
    answer = answer_question(ANSWERABLE[0], Components(settings, provider="extractive", embedder=real_embedder))
    shown = " ".join(s.text for s in answer.shown())
    # One of the sample corpus's estimates of North Korean troops in Kursk, and no casualty count.
    assert any(f in shown for f in ("10,000", "11,000", "12,000", "1,500", "3,000", "8,000")), shown
    assert "killed" not in shown


@pytest.mark.slow
def test_model_answer_is_verified(settings, real_embedder):
    """LangChain's fake chat model stands in for the LLM and answers with one good and one invented sentence."""
    evidence = find_evidence(ANSWERABLE[0], Components(settings, embedder=real_embedder), 6, RetrievalFilter())
    # The chunk that states the 10,000 figure and no 50,000 (a chunk on Russia's 50,000 troops in
    # Kursk would make the invented sentence a half-truth, not an invention).
    source = next(e for e in evidence if "10,000" in e.text and "50,000" not in e.text)
    sentence = next(s for s in split_sentences(source.text) if "10,000" in s)
    good = {"text": sentence, "citations": [{"key": source.key, "quote": sentence.rstrip(".")}]}
    invented = {"text": "Exactly 50,000 North Korean troops are in Kursk.", "citations": [{"key": source.key, "quote": "50,000"}]}
    fake = GenericFakeChatModel(messages=iter([AIMessage(content=__import__("json").dumps({"sentences": [good, invented]}))]))
    answer = answer_question(ANSWERABLE[0], Components(settings, chat_model=fake, embedder=real_embedder))
    actions = {s.text: s.action for s in answer.sentences()}
    assert actions[sentence] == "kept" and actions[invented["text"]] == "dropped"
    # The invented figure is in no shown sentence (a cited source's headline may state other figures).
    assert not any("50,000" in s.text for s in answer.sentences() if s.shown)


def test_extractive_answers_use_the_headline_as_context_and_keep_short_rows_with_figures():
    """A table row ("Lock Fenby; 4.1 m") is short and names only part of the question; its
    article's headline supplies the rest. A short sentence without a figure is still a fragment."""
    from briefing.answer.answers import answer_sentences
    from briefing.answer.question import read_question
    from briefing.models import Evidence

    levels = Evidence(key="c0ffee00-0", article_id="c0ffee00", start=0, title="Water levels at the canal locks",
                      text="The canal authority published the week's levels.\nLock Fenby; 4.1 m\nLock Arden; 3.2 m\n"
                           "The results are below.", similarity=0.6)
    question = read_question("What is the water level at Lock Fenby?")
    # The embedding cosine of every sentence is faked as 0.6: the words and figures decide.
    picked = [d.text for d in answer_sentences(question, [levels], {}, lambda texts: [0.6] * len(texts)).sentences]
    assert "Lock Fenby; 4.1 m" in picked
    assert "The results are below." not in picked
