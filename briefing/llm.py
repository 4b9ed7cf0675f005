"""Model providers: the only module that knows OpenAI and local backends and builds them from settings."""

from __future__ import annotations

import numpy as np

from briefing.embeddings import Embedder, LocalEmbedder
from briefing.errors import ConfigError
from briefing.settings import Settings

OPENAI_EMBEDDING_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


def require_openai_key(settings: Settings) -> str:
    if settings.openai_api_key is None or not settings.openai_api_key.get_secret_value():
        raise ConfigError(
            "no OpenAI key: set OPENAI_API_KEY (and BRIEFING_OPENAI_BASE_URL for an OpenAI-compatible server)"
        )
    return settings.openai_api_key.get_secret_value()


class OpenAIEmbedder:
    """OpenAI (or compatible) embeddings through langchain-openai, built on first use."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.name = f"openai:{settings.openai_embedding_model}"
        self.dimension = OPENAI_EMBEDDING_DIMENSIONS.get(settings.openai_embedding_model)
        self._client = None

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._client is None:
            from langchain_openai import OpenAIEmbeddings

            self._client = OpenAIEmbeddings(
                model=self.settings.openai_embedding_model,
                api_key=require_openai_key(self.settings),
                base_url=self.settings.openai_base_url,
                check_embedding_ctx_length=False,
            )
        vectors = np.asarray(self._client.embed_documents(texts), dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)


def make_embedder(settings: Settings) -> Embedder:
    """The configured embedder. Nothing is loaded or contacted until it first embeds."""
    if settings.embedding_provider == "openai":
        return OpenAIEmbedder(settings)
    return LocalEmbedder(
        settings.local_embedding_model, settings.max_embed_tokens, settings.threads, settings.embed_batch_size
    )
