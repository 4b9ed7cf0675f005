"""Shared fixtures: an isolated home folder, a fake and a real embedder, and a real Chroma server."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def user_cache(tmp_path_factory) -> Path:
    """The tests' user cache folder (XDG_CACHE_HOME): shared by the session, never the developer's."""
    return tmp_path_factory.mktemp("user-cache")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch, user_cache):
    """Every test gets its own BRIEFING_HOME and no provider keys or store settings from outside;
    the user cache (where exported models go) is the session's."""
    for name in list(os.environ):
        if name.startswith("BRIEFING_") or name in {"OPENAI_API_KEY", "OPENAI_BASE_URL"}:
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(user_cache))
    home = tmp_path / "home"
    monkeypatch.setenv("BRIEFING_HOME", str(home))
    monkeypatch.chdir(tmp_path)  # keeps a developer's .env out of the settings
    return home


class HashingEmbedder:
    """Fake embedder for tests about our code, not about embedding quality.

    It stands in for all-MiniLM-L6-v2: a deterministic bag-of-words hashed into 64 dimensions and
    normalized, so identical texts get identical vectors and shared words raise cosine similarity.
    """

    name = "fake:hashing-64"
    dimension = 64

    def __init__(self):
        self.calls: list[int] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.clip(norms, 1e-12, None)

    @property
    def embedded(self) -> int:
        return sum(self.calls)


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    """The real packaged all-MiniLM-L6-v2, loaded once per test session (a few seconds)."""
    from briefing.embedding.minilm import LocalEmbedder

    return LocalEmbedder(max_tokens=256, threads=2)


@pytest.fixture(scope="session")
def onnx_models(tmp_path_factory) -> Path:
    """A models folder with the ONNX graphs exported and timed once per test session (about a
    minute): set BRIEFING_MODELS_DIR to it instead of exporting again."""
    from briefing.embedding.onnx import OnnxEmbedder

    folder = tmp_path_factory.mktemp("onnx-models")
    OnnxEmbedder(folder, max_tokens=256, threads=2).embed(["export it"])
    return folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _chroma_executable() -> str:
    beside_python = Path(sys.executable).parent / "chroma"
    found = str(beside_python) if beside_python.exists() else shutil.which("chroma")
    if not found:
        raise RuntimeError("the `chroma` command (installed with chromadb) is not on PATH")
    return found


def _wait_for_heartbeat(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"chroma server on port {port} did not answer within {timeout:.0f}s")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on a loopback port, in a temp folder; stopped after the session."""
    data = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = (data / "server.log").open("w")
    process = subprocess.Popen(
        [_chroma_executable(), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_heartbeat(port, process)
        yield {"host": "127.0.0.1", "port": port}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(params=["embedded", "server"])
def store_mode(request, monkeypatch):
    """Runs a test against the embedded PersistentClient and against a real Chroma server.

    Each test gets its own collection name on the shared server, so tests never see each other's data.
    """
    if request.param == "server":
        server = request.getfixturevalue("chroma_server")
        monkeypatch.setenv("BRIEFING_CHROMA_HOST", server["host"])
        monkeypatch.setenv("BRIEFING_CHROMA_PORT", str(server["port"]))
        name = re.sub(r"[^a-zA-Z0-9]", "", request.node.name)[-40:]
        monkeypatch.setenv("BRIEFING_COLLECTION", f"t{name}{hashlib.md5(request.node.nodeid.encode()).hexdigest()[:8]}")
    return request.param


@pytest.fixture
def settings():
    from briefing.settings import Settings

    return Settings()


def copy_fixture(name: str, dest: Path) -> Path:
    target = dest / Path(name).name
    shutil.copy(FIXTURES / "formats" / name, target)
    return target
