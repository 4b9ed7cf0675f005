"""`briefing ask`: short cited answers, and abstention in both directions.

The abstention tests use the real packaged embedder (its similarities set the threshold) and the
extractive provider, so they are deterministic and need no LLM.
"""

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from briefing.answer.compose import abstain_reason
from briefing.ingest.run import ingest
from briefing.models import ABSTAIN, RetrievalFilter
from briefing.output.render import to_markdown
from briefing.pipeline import Components, answer_question, find_evidence
from briefing.settings import Settings
from briefing.text import split_sentences
from tests.conftest import CORPUS
from tests.test_verify import EVIDENCE

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
def test_unanswerable_questions_abstain_and_list_the_closest_sources(question, settings, real_embedder):
    answer = answer_question(question, Components(settings, provider="extractive", embedder=real_embedder))
    assert answer.abstained and answer.sentences() == []
    markdown = to_markdown(answer)
    assert ABSTAIN in markdown and "Closest sources found" in markdown


@pytest.mark.slow
def test_troop_question_reports_the_disagreement(settings, real_embedder):
    answer = answer_question(ANSWERABLE[0], Components(settings, provider="extractive", embedder=real_embedder))
    figures = " ".join(s.text for s in answer.sentences() if s.shown)
    # The US estimate and at least one other source's different figure (the early 1,500 or 3,000,
    # Blinken's 8,000): which of them is shown depends on the chunks retrieved.
    assert "11,000 to 12,000" in figures and any(f in figures for f in ("1,500", "3,000", "8,000"))


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


def test_abstain_reasons():
    assert abstain_reason("anything", [], 0.45) == "no articles match"
    far = [e.model_copy(update={"similarity": 0.2}) for e in EVIDENCE]
    assert abstain_reason("North Korean troops in Kursk", far, 0.45).startswith("no evidence is close to the question")
    near = [e.model_copy(update={"similarity": 0.7}) for e in EVIDENCE]
    assert abstain_reason("What did the Pope say about the Pentagon?", near, 0.45) == "no evidence mentions Pope"
    assert abstain_reason("How many North Korean soldiers are in Kursk, says the Pentagon?", near, 0.45) is None


def test_extractive_answers_use_the_headline_as_context_and_keep_short_rows_with_figures():
    """A table row ("Lock Fenby; 4.1 m") is short and names only part of the question; its
    article's headline supplies the rest. A short sentence without a figure is still a fragment."""
    from briefing.answer.generate import extractive_answer
    from briefing.models import Evidence

    levels = Evidence(key="c0ffee00-0", article_id="c0ffee00", start=0, title="Water levels at the canal locks",
                      text="The canal authority published the week's levels.\nLock Fenby; 4.1 m\nLock Arden; 3.2 m\n"
                           "The results are below.")
    picked = [d.text for d in extractive_answer("What is the water level at Lock Fenby?", [levels])]
    assert "Lock Fenby; 4.1 m" in picked
    assert "The results are below." not in picked
