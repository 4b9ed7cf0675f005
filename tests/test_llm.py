"""The provider layer: choice of provider, structured output, cache, retries, truncation, usage."""

import json

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel

from briefing.errors import ConfigError
from briefing.llm import LLMError, ResponseCache, StructuredLLM, make_chat_model, resolve_provider
from briefing.settings import Settings


class Answer(BaseModel):
    headline: str
    items: list[str]


class ScriptedChat(BaseChatModel):
    """Fake chat model standing in for a provider: each call pops the next scripted step, which is
    either an exception to raise or an AIMessage to return. It records the kwargs it was bound with."""

    steps: list = []
    seen: list = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(kwargs)
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return ChatResult(generations=[ChatGeneration(message=step)])


class RateLimited(Exception):
    status_code = 429


class BadRequest(Exception):
    status_code = 400


def structured(model, tmp_path=None, provider="local", retries=2):
    cache = ResponseCache(tmp_path / "cache.sqlite") if tmp_path else None
    return StructuredLLM(model, provider=provider, model="fake", cache=cache, retries=retries, backoff=0)


def message(content: str, finish: str = "stop", tokens=(12, 5)) -> AIMessage:
    return AIMessage(content=content, response_metadata={"finish_reason": finish},
                     usage_metadata={"input_tokens": tokens[0], "output_tokens": tokens[1], "total_tokens": sum(tokens)})  # fmt: skip


GOOD = json.dumps({"headline": "h", "items": ["a", "b"]})


def test_auto_is_openai_with_a_key_else_local(monkeypatch):
    assert resolve_provider(Settings()) == "local"
    assert resolve_provider(Settings(), "extractive") == "extractive"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real")
    assert resolve_provider(Settings()) == "openai"
    with pytest.raises(ConfigError, match="unknown provider 'gpt'"):
        resolve_provider(Settings(), "gpt")


def test_openai_without_a_key_names_both_variables():
    with pytest.raises(ConfigError) as info:
        make_chat_model(Settings(), "openai")
    assert str(info.value) == (
        "no OpenAI key: set OPENAI_API_KEY (and BRIEFING_OPENAI_BASE_URL for an OpenAI-compatible server)"
    )


def test_openai_chat_model_uses_the_base_url(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real")
    monkeypatch.setenv("BRIEFING_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    model = make_chat_model(Settings(), "openai")
    assert str(model.openai_api_base) == "http://127.0.0.1:9/v1" and model.max_retries == 0


def test_structured_output_is_validated_and_usage_counted():
    model = ScriptedChat(steps=[message(GOOD)], seen=[])
    llm = structured(model)
    assert llm.generate([("human", "go")], Answer) == Answer(headline="h", items=["a", "b"])
    assert (llm.usage.calls, llm.usage.prompt_tokens, llm.usage.completion_tokens) == (1, 12, 5)
    (record,) = llm.usage.records
    assert (record.purpose, record.prompt_tokens, record.completion_tokens, record.cached) == ("Answer", 12, 5, False)
    assert llm.usage.summary() == "1 model calls (0 from cache), 12 prompt + 5 completion tokens"
    assert "json_schema" in model.seen[0]  # the local provider constrains output with the schema


def test_openai_provider_asks_for_json_schema_output():
    model = ScriptedChat(steps=[message(GOOD)], seen=[])
    structured(model, provider="openai").generate([("human", "go")], Answer)
    assert model.seen[0]["response_format"]["type"] == "json_schema"


def test_responses_are_cached(tmp_path):
    model = GenericFakeChatModel(messages=iter([AIMessage(content=GOOD)]))  # only one answer scripted
    first = structured(model, tmp_path).generate([("human", "go")], Answer)
    again = structured(model, tmp_path)
    assert again.generate([("human", "go")], Answer) == first
    assert (again.usage.calls, again.usage.cached_calls) == (1, 1) and again.usage.records[0].cached


def test_transient_errors_are_retried_then_succeed():
    model = ScriptedChat(steps=[RateLimited("slow down"), TimeoutError("timed out"), message(GOOD)], seen=[])
    assert structured(model, retries=2).generate([("human", "go")], Answer).headline == "h"


def test_transient_errors_give_up_with_a_clear_error():
    model = ScriptedChat(steps=[RateLimited("slow down")] * 3, seen=[])
    with pytest.raises(LLMError, match=r"provider 'local' failed: RateLimited \(HTTP 429\): slow down"):
        structured(model, retries=2).generate([("human", "go")], Answer)


def test_other_errors_are_not_retried():
    model = ScriptedChat(steps=[BadRequest("bad schema"), message(GOOD)], seen=[])
    with pytest.raises(LLMError, match="HTTP 400"):
        structured(model).generate([("human", "go")], Answer)
    assert len(model.steps) == 1


def test_empty_and_malformed_answers_are_errors():
    with pytest.raises(LLMError, match="returned an empty answer"):
        structured(ScriptedChat(steps=[message("")], seen=[])).generate([("human", "go")], Answer)
    with pytest.raises(LLMError, match="unusable JSON for Answer"):
        structured(ScriptedChat(steps=[message('{"headline": "h", "items": ["a", "b')], seen=[])).generate([("human", "go")], Answer)


def test_answer_cut_off_by_the_token_limit_keeps_its_complete_items():
    cut = '{"headline": "h", "items": ["a", "b", "unfinish'
    llm = structured(ScriptedChat(steps=[message(cut, finish="length")], seen=[]))
    assert llm.generate([("human", "go")], Answer) == Answer(headline="h", items=["a", "b"])


def test_code_fences_and_raw_newlines_are_tolerated():
    fenced = '```json\n{"headline": "line one\nline two", "items": []}\n```'
    llm = structured(ScriptedChat(steps=[message(fenced)], seen=[]))
    assert llm.generate([("human", "go")], Answer).headline == "line one\nline two"


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [(None, "onnx"), ("local:all-MiniLM-L6-v2", "local"), ("local:all-MiniLM-L6-v2-onnx-int8", "onnx"),
     ("local:all-MiniLM-L6-v2-onnx", "onnx"),
     ("openai:text-embedding-3-small", "openai")],
)  # fmt: skip
def test_auto_embedding_provider_keeps_the_store_embedder(recorded, expected):
    from briefing.embedding import embedding_provider
    from briefing.store.catalog import Catalog
    from briefing.store.store import recorded_embedder

    settings = Settings()
    if recorded:
        Catalog(settings.store_dir / "catalog.sqlite").set_meta("embedder", recorded)
    assert embedding_provider(settings, recorded_embedder(settings)) == expected
    assert embedding_provider(Settings(embedding_provider="local")) == "local"  # an explicit choice wins
