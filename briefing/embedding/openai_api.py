"""OpenAI (or compatible) embeddings through the openai client, built on first use."""

from __future__ import annotations

from typing import Any

import numpy as np

from briefing.settings import Settings

OPENAI_EMBEDDING_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
REQUEST_TEXTS = 1000  # texts per request, as LangChain's OpenAIEmbeddings sends them


class OpenAIEmbedder:
    """The embeddings endpoint of OpenAI or a compatible server (BRIEFING_OPENAI_BASE_URL)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.name = f"openai:{settings.openai_embedding_model}"
        self.dimension = OPENAI_EMBEDDING_DIMENSIONS.get(settings.openai_embedding_model)
        self._client: Any = None  # an openai.OpenAI client, made on first use

    def embed(self, texts: list[str]) -> np.ndarray:
        """Shape (len(texts), dimension), rows of unit length."""
        if self._client is None:
            self._client = self._connect()
        rows = []
        for i in range(0, len(texts), REQUEST_TEXTS):
            response = self._client.embeddings.create(model=self.settings.openai_embedding_model, input=texts[i : i + REQUEST_TEXTS])
            rows += [item.embedding for item in sorted(response.data, key=lambda d: d.index)]
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)

    def _connect(self):
        from openai import OpenAI

        return OpenAI(api_key=self.settings.openai_key(), base_url=self.settings.openai_base_url, timeout=self.settings.llm_timeout)
