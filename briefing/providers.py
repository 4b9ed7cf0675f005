"""The one list of model providers: name → what writes the draft, the settings it reads, and the
function that builds its chat model.

Settings validation (``BRIEFING_PROVIDER``), the command line's ``--provider`` help, ``Components``
and ``llm.make_chat_model`` read ``PROVIDERS``. Adding a provider is one factory function in
``llm.py`` and one row here. Nothing is imported to read the table, so the help stays instant.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from briefing.settings import Settings


@dataclass(frozen=True)
class ProviderEntry:
    """A provider: ``factory`` ("module:function", called with the settings) builds its LangChain
    chat model, None for a provider that writes without a model. ``reads`` names the settings it
    reads; ``model_setting`` the one that names its model. ``schema`` says how a JSON schema reaches
    the model: OpenAI's ``response_format``, or a llama.cpp grammar. ``module`` is the Python
    module it needs and ``install`` what to install when that module is missing."""

    description: str
    factory: str | None = None
    reads: tuple[str, ...] = ()
    model_setting: str | None = None
    schema: Literal["response_format", "grammar"] | None = None
    module: str | None = None
    install: str | None = None


PROVIDERS: dict[str, ProviderEntry] = {
    "openai": ProviderEntry(
        "OpenAI, or any OpenAI-compatible server (Ollama, vLLM, llama.cpp server) at BRIEFING_OPENAI_BASE_URL",
        factory="briefing.llm:openai_chat_model",
        reads=("openai_api_key", "openai_base_url", "openai_model", "temperature", "max_output_tokens", "llm_timeout"),
        model_setting="openai_model",
        schema="response_format",
    ),
    "local": ProviderEntry(
        "llama.cpp inside this process with a GGUF file (the optional extra: pip install 'briefing[local]')",
        factory="briefing.llm:llama_cpp_chat_model",
        reads=("local_model_path", "local_context", "threads", "temperature", "max_output_tokens"),
        model_setting="local_model_path",
        schema="grammar",
        module="llama_cpp",
        install="pip install 'briefing[local]'",
    ),
    "extractive": ProviderEntry("no language model: the sources' own sentences, picked and checked"),
}
"""Every provider a user can name, besides ``auto``."""

AUTO = "auto"
DEFAULT_PROVIDER = AUTO
AUTO_RULE = "openai when OPENAI_API_KEY or BRIEFING_OPENAI_BASE_URL is set, else extractive"
"""What ``auto`` means. A small local model does not pay for itself as a default: on a 2-core CPU
SmolLM2-135M took 4-6 minutes for a brief the extractive path writes in 1-3 s, and wrote no better
(issue 23's measurements, README "Providers")."""


def provider_names() -> list[str]:
    return [AUTO, *PROVIDERS]


def provider_help() -> str:
    return " | ".join(provider_names())


def check_provider_name(name: str) -> str:
    """``name`` if it is ``auto`` or a registered provider, else ValueError naming the choices."""
    if name != AUTO and name not in PROVIDERS:
        raise ValueError(f"unknown provider '{name}' (choose {', '.join(provider_names())})")
    return name


def resolve_provider(settings: Settings, requested: str | None = None) -> str:
    """The provider that runs: ``requested`` (a command-line option), else the setting, with ``auto``
    resolved by ``AUTO_RULE``. Raises ValueError for an unknown name."""
    provider = check_provider_name(requested or settings.provider)
    if provider != AUTO:
        return provider
    return "openai" if settings.has_openai_key or settings.openai_base_url else "extractive"


def module_available(entry: ProviderEntry) -> bool:
    """Whether the module a provider needs is installed (found without importing it)."""
    return entry.module is None or importlib.util.find_spec(entry.module) is not None
