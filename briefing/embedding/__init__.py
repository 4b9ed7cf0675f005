"""Embedders: texts → unit-length float32 vectors, labelled with a name and dimension that the store
records. ``make_embedder`` is the one place the configured embedder is chosen; nothing here reads
the store: the embedder name a store was built with is passed in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

    from briefing.settings import Settings

ONNX_FILE = "all-MiniLM-L6-v2-int8.onnx"


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors, shape (len(texts), dimension). ``name`` and
    ``dimension`` label the store."""

    name: str
    dimension: int | None

    def embed(self, texts: list[str]) -> np.ndarray: ...


def embedding_provider(settings: Settings, recorded: str | None = None) -> str:
    """The configured embedding provider; `auto` keeps the one named by ``recorded`` (the embedder
    an existing store was built with, from ``store.store.recorded_embedder``), else picks onnx."""
    if settings.embedding_provider != "auto":
        return settings.embedding_provider
    recorded = recorded or ""
    if recorded.startswith("openai:"):
        return "openai"
    if recorded.startswith("local:") and not recorded.endswith("-onnx-int8"):
        return "local"
    return "onnx"


def make_embedder(settings: Settings, recorded: str | None = None) -> Embedder:
    """The configured embedder. Nothing is loaded or contacted until it first embeds."""
    provider = embedding_provider(settings, recorded)
    if provider == "openai":
        from briefing.embedding.openai_api import OpenAIEmbedder

        return OpenAIEmbedder(settings)
    if provider == "onnx":
        from briefing.embedding.onnx import OnnxEmbedder

        model_file = settings.model_folder / ONNX_FILE
        return OnnxEmbedder(model_file, settings.max_embed_tokens, settings.threads, settings.embed_batch_size or 4)
    from briefing.embedding.minilm import LocalEmbedder

    return LocalEmbedder(
        settings.local_embedding_model, settings.max_embed_tokens, settings.threads, settings.embed_batch_size or 32
    )
