"""The provider layer: choice of provider, structured output, cache, retries, truncation, usage."""

import json
import sys
from typing import ClassVar

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel, Field

from briefing.errors import ConfigError
from briefing.llm import LLMError, ResponseCache, StructuredLLM, make_chat_model
from briefing.providers import resolve_provider
from briefing.settings import Settings


class Answer(BaseModel):
    headline: str
    items: list[str]


class ScriptedChat(BaseChatModel):
    """Fake chat model standing in for a provider: each call pops the next scripted step, which is
    either an exception to raise or an AIMessage to return. It records the kwargs it was bound with."""

    steps: list = Field(default_factory=list)
    seen: list = Field(default_factory=list)

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
                     usage_metadata={"input_tokens": tokens[0], "output_tokens": tokens[1], "total_tokens": sum(tokens)})


GOOD = json.dumps({"headline": "h", "items": ["a", "b"]})


def test_auto_is_openai_with_a_key_or_a_server_else_extractive(monkeypatch):
    assert resolve_provider(Settings()) == "extractive"
    assert resolve_provider(Settings(), "local") == "local"
    monkeypatch.setenv("BRIEFING_OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")  # e.g. Ollama, no key
    assert resolve_provider(Settings()) == "openai"
    monkeypatch.delenv("BRIEFING_OPENAI_BASE_URL")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real")
    assert resolve_provider(Settings()) == "openai"
    with pytest.raises(ValueError, match="unknown provider 'gpt'"):
        resolve_provider(Settings(), "gpt")


def test_openai_without_a_key_or_a_server_names_both_variables():
    with pytest.raises(ConfigError) as info:
        make_chat_model(Settings(), "openai")
    assert str(info.value) == (
        "no OpenAI key: set OPENAI_API_KEY, or BRIEFING_OPENAI_BASE_URL for an OpenAI-compatible server"
    )


def test_a_server_without_a_key_gets_a_placeholder_key(monkeypatch):
    """Local servers (Ollama, llama.cpp server) ignore the key, but the openai client needs one."""
    from briefing.settings import KEYLESS_SERVER_KEY

    monkeypatch.setenv("BRIEFING_OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    model = make_chat_model(Settings(), "openai")
    assert model.openai_api_key.get_secret_value() == KEYLESS_SERVER_KEY


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
    model = ScriptedChat(steps=[RateLimited("slow down"), ConnectionError("connection reset"), message(GOOD)], seen=[])
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
)
def test_auto_embedding_provider_keeps_the_store_embedder(recorded, expected):
    from briefing.embedding import embedding_provider
    from briefing.store.catalog import Catalog
    from briefing.store.store import recorded_embedder

    settings = Settings()
    if recorded:
        Catalog(settings.store_dir / "catalog.sqlite").set_meta("embedder", recorded)
    assert embedding_provider(settings, recorded_embedder(settings)) == expected
    assert embedding_provider(Settings(embedding_provider="local")) == "local"  # an explicit choice wins


# --- the provider registry --------------------------------------------------------------------


def test_every_provider_row_names_real_settings_and_an_importable_factory():
    import importlib

    from briefing.providers import PROVIDERS, provider_help

    for name, row in PROVIDERS.items():
        assert set(row.reads) <= set(Settings.model_fields), name
        assert row.model_setting is None or row.model_setting in row.reads, name
        if row.factory is not None:
            module, _, function = row.factory.partition(":")
            assert callable(getattr(importlib.import_module(module), function)), name
        assert name in provider_help() and name in Settings.model_fields["provider"].description
    assert provider_help() == "auto | openai | local | extractive"


def test_settings_reject_an_unknown_provider(monkeypatch):
    from pydantic import ValidationError

    monkeypatch.setenv("BRIEFING_PROVIDER", "chatgpt")
    with pytest.raises(ValidationError, match="unknown provider 'chatgpt'"):
        Settings()


class FakeLlama:
    """Stands in for llama_cpp.Llama (the `local` extra is not installed for the tests): records
    how our adapter loads the model and what it sends, and answers with a scripted completion."""

    made: ClassVar[list] = []
    calls: ClassVar[list] = []

    def __init__(self, **kwargs):
        self.made.append(kwargs)

    def create_chat_completion(self, **kwargs):
        self.calls.append(kwargs)
        return {"choices": [{"message": {"content": GOOD}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 30, "completion_tokens": 7, "total_tokens": 37}}


@pytest.fixture
def fake_llama_cpp(monkeypatch, tmp_path):
    """A `llama_cpp` module holding FakeLlama, and a GGUF path that exists."""
    import importlib.machinery
    import types

    module = types.ModuleType("llama_cpp")
    module.__spec__ = importlib.machinery.ModuleSpec("llama_cpp", None)
    module.Llama = FakeLlama
    monkeypatch.setitem(sys.modules, "llama_cpp", module)
    monkeypatch.setattr("briefing.llm._LLAMAS", {})
    FakeLlama.made, FakeLlama.calls = [], []
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setenv("BRIEFING_LOCAL_MODEL_PATH", str(model))
    return module


def test_the_local_provider_drives_llama_cpp_with_the_schema_as_a_grammar(fake_llama_cpp):
    from briefing.llm import make_structured_llm

    llm = make_structured_llm(Settings(threads=3, local_context=2048), "local")
    assert (llm.provider, llm.model) == ("local", "tiny.gguf")
    assert llm.generate([("system", "be brief"), ("human", "go")], Answer) == Answer(headline="h", items=["a", "b"])
    (made,) = FakeLlama.made
    assert (made["n_threads"], made["n_ctx"]) == (3, 2048) and made["model_path"].endswith("tiny.gguf")
    (call,) = FakeLlama.calls
    assert [m["role"] for m in call["messages"]] == ["system", "user"]
    assert call["response_format"]["type"] == "json_object"
    assert call["response_format"]["schema"]["required"] == ["headline", "items"]
    assert (llm.usage.prompt_tokens, llm.usage.completion_tokens) == (30, 7)


def test_the_local_provider_without_its_extra_says_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real(name, *a))
    with pytest.raises(ConfigError) as info:
        make_chat_model(Settings(), "local")
    assert "pip install 'briefing[local]'" in str(info.value) and "BRIEFING_OPENAI_BASE_URL" in str(info.value)


# --- schemas sent to providers -------------------------------------------------------------------


def strict_problems(schema: dict) -> list[str]:
    """What a strict server (OpenAI's strict mode, grammar builders) would reject in ``schema``."""
    problems = []
    for name, holder in [("(top)", schema), *schema.get("$defs", {}).items()]:
        properties = holder.get("properties", {})
        if sorted(holder.get("required", [])) != sorted(properties):
            problems.append(f"{name}: required {holder.get('required')} != properties {sorted(properties)}")
        if holder.get("additionalProperties") is not False:
            problems.append(f"{name}: additionalProperties is not false")
        problems += [f"{name}.{p}: has a default" for p, spec in properties.items() if "default" in spec]
    return problems


def test_every_schema_we_send_is_valid_and_strict():
    from jsonschema import Draft202012Validator

    from briefing.answer.generate import SECTIONS, DraftAnswer, QuestionAnswer, RepairAnswer, narrowed_schema
    from briefing.answer.judge import JudgeAnswer
    from briefing.llm import strict_schema

    schemas = {
        "brief": narrowed_schema(DraftAnswer, ["k1-0", "k2-1"], SECTIONS),
        "answer": narrowed_schema(QuestionAnswer, ["k1-0"], ("Answer",)),
        "repair": narrowed_schema(RepairAnswer, ["k1-0"]),
        "judge": strict_schema(JudgeAnswer.model_json_schema()),
    }
    for name, schema in schemas.items():
        Draft202012Validator.check_schema(schema)
        assert strict_problems(schema) == [], name
    citation = {"key": "k1-0", "quote": "q"}
    sentence = {"section": "Answer", "text": "t.", "citations": [citation]}
    Draft202012Validator(schemas["answer"]).validate({"sentences": [sentence]})
    with pytest.raises(Exception, match="headline"):  # the answer schema has no headline, and allows none
        Draft202012Validator(schemas["answer"]).validate({"headline": {}, "sentences": [sentence]})


def test_a_timeout_is_not_sent_again():
    model = ScriptedChat(steps=[TimeoutError("timed out"), message(GOOD)], seen=[])
    with pytest.raises(LLMError, match="TimeoutError: timed out"):
        structured(model, retries=2).generate([("human", "go")], Answer)
    assert len(model.steps) == 1
