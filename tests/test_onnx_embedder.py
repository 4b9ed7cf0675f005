"""The ONNX int8 export of all-MiniLM-L6-v2: close to the original, and no torch when querying."""

import subprocess
import sys

import numpy as np
import pytest

from briefing.embedding.onnx import ONNX_NAME, OnnxEmbedder
from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "minilm-int8.onnx"
    embedder = OnnxEmbedder(path, max_tokens=256, threads=2)
    embedder.embed(["export it"])
    return path


@pytest.mark.slow
def test_onnx_vectors_stay_close_to_sentence_transformers(exported, real_embedder):
    texts = [p.read_text().split("---", 2)[2].strip()[:1500] for p in sorted(CORPUS.glob("2024-*.md"))]
    texts += ["short text", "North Korean troops in Kursk"]
    onnx = OnnxEmbedder(exported, max_tokens=256, threads=2).embed(texts)
    original = real_embedder.embed(texts)
    cosine = (onnx * original).sum(axis=1)
    assert onnx.shape == (len(texts), 384) and np.allclose(np.linalg.norm(onnx, axis=1), 1, atol=1e-3)
    assert cosine.min() >= 0.985, cosine.min()


@pytest.mark.slow
def test_querying_imports_no_torch(exported):
    code = (
        "import sys; from pathlib import Path; from briefing.embedding.onnx import OnnxEmbedder; "
        f"v = OnnxEmbedder(Path({str(exported)!r})).embed(['North Korean troops']); "
        "print(v.shape, 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "(1, 384) False False"


def test_the_onnx_embedder_has_its_own_store_name():
    assert ONNX_NAME == "local:all-MiniLM-L6-v2-onnx-int8"
