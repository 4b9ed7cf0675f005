"""The seams to a language model, as ``Protocol`` types: ``ChatModel`` (a LangChain chat model, as a
provider builds it) and ``StructuredModel`` (what drafting, repair and the llm judge call;
``llm.StructuredLLM`` is the real one, tests fake it). Kept apart from ``llm.py`` so that modules
can name the seam without reaching the provider module."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from briefing.models import Usage

T = TypeVar("T", bound=BaseModel)


class ChatModel(Protocol):
    """``bind`` provider-specific arguments (a JSON schema), then ``invoke`` with (role, text)
    messages; the answer has ``content`` and may carry ``usage_metadata`` and ``response_metadata``."""

    def bind(self, **kwargs: Any) -> Any: ...


class StructuredModel(Protocol):
    """JSON answers validated by a Pydantic model, with the provider and model named and tokens counted."""

    provider: str
    model: str
    usage: Usage

    def generate(self, messages: list[tuple[str, str]], schema: type[T], json_schema: dict | None = None) -> T: ...

    def start_usage(self) -> Usage: ...
