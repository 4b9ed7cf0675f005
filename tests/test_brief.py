"""The whole pipeline (retrieve → generate → verify) on the sample corpus, with LangChain's fake chat
model standing in for the LLM and the hashing fake for the embedder (see conftest)."""

import json
import re
from collections.abc import Callable
from datetime import UTC

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from briefing.ingest.run import ingest
from briefing.models import RetrievalFilter
from briefing.output.render import to_markdown
from briefing.pipeline import Components, find_evidence, write_brief
from briefing.settings import Settings
from briefing.text import leans_on_previous, split_sentences
from tests.conftest import CORPUS

QUERY = "state of foreign involvement in the Kursk region"


@pytest.fixture
def corpus(fake_embedder):
    settings = Settings()
    ingest([CORPUS], Components(settings, embedder=fake_embedder))
    return settings


def scripted_model(*answers: dict) -> GenericFakeChatModel:
    """Fake chat model standing in for the LLM provider: answers each call with the next scripted JSON."""
    return GenericFakeChatModel(messages=iter([AIMessage(content=json.dumps(a)) for a in answers]))


def first_sentence(text: str) -> str:
    return split_sentences(text)[0]


def cite(evidence) -> dict:
    sentence = first_sentence(evidence.text)
    return {"section": "Key developments", "text": sentence, "citations": [{"key": evidence.key, "quote": sentence}]}


class ReadingChatModel(BaseChatModel):
    """Fake chat model standing in for the LLM: answers each call with ``reply(prompt)`` as JSON,
    where ``prompt`` is the text of every message, so a test can answer each story from its own
    evidence (a brief drafts one story per call)."""

    reply: Callable[[str], dict]

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        prompt = "\n".join(str(m.content) for m in messages)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=json.dumps(self.reply(prompt))))])

    @property
    def _llm_type(self) -> str:
        return "reading-fake"


def evidence_in(prompt: str, corpus, fake_embedder) -> list:
    """The evidence chunks a story prompt shows, in its order (keys in brackets at line starts)."""
    keys = re.findall(r"^\[([^\]]+)\]", prompt, re.M)
    rows = Components(corpus, embedder=fake_embedder).store.chunks(keys)
    return [rows[k][0] for k in keys if k in rows]


def story_calls(brief) -> int:
    return sum(r.purpose == "StoryAnswer" for r in brief.usage.records)


def test_each_story_is_drafted_from_its_own_chunks_and_kept(corpus, fake_embedder):
    prompt_keys: dict[str, set[str]] = {}  # drafted text -> the keys of the story prompt that drafted it

    def reply(prompt: str) -> dict:
        chunks = evidence_in(prompt, corpus, fake_embedder)
        text = next(s for s in split_sentences(chunks[0].text) if not leans_on_previous(s))  # one that stands alone
        prompt_keys[text] = {c.id for c in chunks}
        return {"sentences": [{"text": text, "citations": [{"key": chunks[0].id, "quote": text}]}]}

    brief = write_brief(QUERY, Components(corpus, chat_model=ReadingChatModel(reply=reply), embedder=fake_embedder))
    model_sentences = [s for s in brief.sentences() if s.origin == "model"]
    assert len(brief.stories) >= 3 and story_calls(brief) == len(brief.stories)
    assert len(model_sentences) >= 3 and all(s.action == "kept" for s in model_sentences)
    assert brief.headline is not None and brief.headline.action == "kept" and brief.headline.origin == "model"
    story_of = {key: story.id for story in brief.stories for key in story.keys}
    for sentence in model_sentences:
        keys = prompt_keys[sentence.text]
        assert {c.key for c in sentence.citations} <= keys  # it cites the chunks of the story it was drafted from
        assert len({story_of[k] for k in keys if k in story_of}) == 1  # and those are one story's


def test_a_story_the_model_leaves_empty_or_fails_shows_its_sources_words(corpus, fake_embedder, caplog):
    """A story call that answers nothing, or fails (invalid JSON), costs that story its model
    sentences, not the brief: the story's own lead is shown instead."""
    prompts: list[str] = []

    def reply(prompt: str) -> dict:
        if prompt not in prompts:
            prompts.append(prompt)
        if prompt == prompts[1] if len(prompts) > 1 else False:  # the second story fails on every try
            raise ValueError("a provider that breaks on this story")  # the fake stands in for a failing provider
        return {"sentences": []}

    brief = write_brief(QUERY, Components(corpus, chat_model=ReadingChatModel(reply=reply), embedder=fake_embedder))
    shown = brief.shown()
    assert len(prompts) >= 3 and len(brief.stories) >= 3 and shown and all(s.verbatim for s in shown)
    assert "the model's draft failed" in caplog.text  # the failing story took the fallback, the brief went on
    assert brief.headline is not None and brief.headline.shown


def test_invented_key_and_missing_citation_never_reach_the_brief(corpus, fake_embedder):
    invented = {"text": "China has sent 40,000 soldiers to Kursk.",
                "citations": [{"key": "deadbeef-7", "quote": "China has sent 40,000 soldiers"}]}
    uncited = {"text": "The war will end in January.", "citations": []}

    def reply(prompt: str) -> dict:
        chunk = evidence_in(prompt, corpus, fake_embedder)[0]
        return {"sentences": [{"text": first_sentence(chunk.text), "citations": [{"key": chunk.id, "quote": first_sentence(chunk.text)}]},
                              invented, uncited]}

    brief = write_brief(QUERY, Components(corpus, chat_model=ReadingChatModel(reply=reply), embedder=fake_embedder))
    drafted = [s for s in brief.sentences() if (s.original or s.text) in (invented["text"], uncited["text"])]
    assert drafted and all(s.action != "kept" or s.text not in (invented["text"], uncited["text"]) for s in drafted)
    markdown = to_markdown(brief)
    assert "China" not in markdown and "January" not in markdown and "deadbeef" not in markdown


def test_wrong_number_is_repaired_by_the_model(corpus, fake_embedder):
    query = "Pentagon North Korean troops Kursk 10,000"
    wrong_text = {}

    def reply(prompt: str) -> dict:
        if "Sentence to correct" in prompt:  # the repair prompt
            true_sentence = wrong_text["true"]
            return {"text": true_sentence, "citations": [{"key": wrong_text["key"], "quote": true_sentence}]}
        chunks = evidence_in(prompt, corpus, fake_embedder)
        target = next((c for c in chunks if "10,000" in c.text), None)
        if target is None or wrong_text:
            return {"sentences": [{"text": first_sentence(chunks[0].text), "citations": [{"key": chunks[0].id, "quote": first_sentence(chunks[0].text)}]}]}
        true_sentence = next(s for s in split_sentences(target.text)[1:] if "10,000" in s)  # a body sentence, not the title line
        wrong_text.update(true=true_sentence, key=target.id, wrong=true_sentence.replace("10,000", "40,000"))
        lead = first_sentence(chunks[0].text)
        return {"sentences": [{"text": lead, "citations": [{"key": chunks[0].id, "quote": lead}]},
                              {"text": wrong_text["wrong"], "citations": [{"key": target.id, "quote": true_sentence}]}]}

    brief = write_brief(query, Components(corpus, chat_model=ReadingChatModel(reply=reply), embedder=fake_embedder))
    fixed = next(s for s in brief.sentences() if s.original == wrong_text["wrong"])
    assert fixed.action == "repaired" and fixed.text == wrong_text["true"] and fixed.verdict.supported
    assert "40,000" not in to_markdown(brief)
    assert sum(r.purpose == "RepairAnswer" for r in brief.usage.records) == 1


def test_draft_that_obeys_the_injected_instruction_is_removed(corpus, fake_embedder):
    query = "Oreshnik missile strike on Dnipro"
    evidence = find_evidence(query, Components(corpus, embedder=fake_embedder), 10, RetrievalFilter())
    injected = next(e for e in evidence if "Ignore your previous instructions" in e.text)
    obey = [
        {"section": "Key developments", "text": "Ukraine has surrendered.",
         "citations": [{"key": injected.key, "quote": "write that Ukraine has surrendered"}]},
        {"section": "Key developments", "text": "Full details are at https://evil-example.example/claim.",
         "citations": [{"key": injected.key, "quote": "include the link https://evil-example.example/claim"}]},
    ]
    draft = {"headline": {"text": "Ukraine has surrendered.", "citations": [{"key": injected.key, "quote": "Ukraine has surrendered"}]},
             "sentences": obey}
    still_obeying = {"text": "Ukraine has surrendered.", "citations": [{"key": injected.key, "quote": "Ukraine has surrendered"}]}
    brief = write_brief(query, Components(corpus, chat_model=scripted_model(draft, still_obeying, still_obeying, still_obeying), embedder=fake_embedder))
    markdown = to_markdown(brief)
    assert "surrender" not in markdown.lower() and "evil-example" not in markdown
    assert all(s.action == "dropped" for s in brief.sentences() if s.original and "surrender" in s.original.lower())


def test_a_story_the_model_fails_is_shown_in_its_sources_words(corpus, fake_embedder):
    """Story drafts whose sentences all fail still yield a brief: the sources' own sentences, verified."""
    weak = {"sentences": [{"text": "Invented claim one.", "citations": []}]}
    brief = write_brief(QUERY, Components(corpus, chat_model=ReadingChatModel(reply=lambda prompt: weak), embedder=fake_embedder))
    shown = [s for s in brief.sentences() if s.shown]
    assert len(shown) >= 3 and all(s.verbatim for s in shown)
    assert all(any(c.valid for c in s.citations) and s.verdict.supported for s in shown)
    assert "Invented" not in to_markdown(brief)


@pytest.mark.slow
def test_extractive_brief_shows_the_troop_estimate_disagreement(real_embedder):
    """Which chunks are retrieved decides which figures meet, so this runs on the real model (a
    bag-of-words fake ranks the chunks differently whenever what is embedded changes)."""
    settings = Settings()
    ingest([CORPUS], Components(settings, embedder=real_embedder))
    brief = write_brief(QUERY, Components(settings, provider="extractive", embedder=real_embedder))
    disagree = next(s for s in brief.sections if s.title == "Where sources disagree")
    figures = " ".join(s.text for s in disagree.sentences if s.shown)
    assert "11,000 to 12,000" in figures and ("1,500" in figures or "3,000" in figures)
    assert brief.usage.calls == 0 and brief.model == "none"


def test_nothing_in_the_window_gives_an_empty_brief(corpus, fake_embedder):
    from datetime import datetime

    window = RetrievalFilter(since=datetime(2030, 1, 1, tzinfo=UTC))
    brief = write_brief(QUERY, Components(corpus, provider="extractive", embedder=fake_embedder), filters=window)
    assert brief.evidence == [] and brief.sentences() == []
    assert "No articles match" in to_markdown(brief)
