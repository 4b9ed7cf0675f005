"""Embedders: texts → unit-length float32 vectors, labelled with a name and dimension that the store
records. ``make_embedder`` is the one place the configured embedder is chosen; nothing here reads
the store: the embedder name a store was built with is passed in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

    from briefing.settings import Settings


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors, shape (len(texts), dimension). ``name`` and
    ``dimension`` label the store."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int | None: ...

    def embed(self, texts: list[str]) -> np.ndarray: ...


def embedding_provider(settings: Settings, recorded: str | None = None) -> str:
    """The configured embedding provider; `auto` keeps the one named by ``recorded`` (the embedder
    an existing store was built with, from ``store.store.recorded_embedder``), else picks onnx."""
    if settings.embedding_provider != "auto":
        return settings.embedding_provider
    recorded = recorded or ""
    if recorded.startswith("openai:"):
        return "openai"
    if recorded.startswith("local:") and "-onnx" not in recorded:
        return "local"
    return "onnx"


def same_embedder(recorded: str, configured: str) -> bool:
    """Whether a store recorded as made by ``recorded`` can be read with ``configured``: the same
    name, or an earlier name of the same model (the ONNX embedder was `...-onnx-int8`)."""
    from briefing.embedding.onnx import LEGACY_ONNX_NAMES, ONNX_NAME

    def canonical(name: str) -> str:
        return ONNX_NAME if name in LEGACY_ONNX_NAMES else name

    return canonical(recorded) == canonical(configured)


def make_embedder(settings: Settings, recorded: str | None = None) -> Embedder:
    """The configured embedder. Nothing is loaded or contacted until it first embeds."""
    provider = embedding_provider(settings, recorded)
    if provider == "openai":
        from briefing.embedding.openai_api import OpenAIEmbedder

        return OpenAIEmbedder(settings)
    if provider == "onnx":
        from briefing.embedding.onnx import OnnxEmbedder

        return OnnxEmbedder(settings.model_folder, settings.max_embed_tokens, settings.threads, settings.embed_batch_size)
    from briefing.embedding.minilm import LocalEmbedder

    return LocalEmbedder(
        settings.local_embedding_model, settings.max_embed_tokens, settings.threads, settings.embed_batch_size or 32
    )
