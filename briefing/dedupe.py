"""Exact and near-duplicate detection for articles.

Exact: the same text once case, punctuation and spacing are ignored. Near: MinHash estimate of the
Jaccard similarity of word 3-gram sets, so a story re-posted with a new title, URL or a changed
line is still one article.
"""

from __future__ import annotations

import hashlib

import numpy as np

from briefing.text import text_key

PERMUTATIONS = 128
SHINGLE_WORDS = 3
_PRIME = np.uint64((1 << 61) - 1)
_rng = np.random.default_rng(20241105)  # fixed seed: signatures must be comparable across runs
_A = _rng.integers(1, (1 << 61) - 1, size=PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, (1 << 61) - 1, size=PERMUTATIONS, dtype=np.uint64)
_MASK32 = np.uint64(0xFFFFFFFF)


def content_hash(text: str) -> str:
    """Hex SHA-256 of the duplicate-insensitive form of ``text``: the article's identity."""
    return hashlib.sha256(text_key(text).encode()).hexdigest()


def _shingles(text: str) -> np.ndarray:
    tokens = text_key(text).split()
    if len(tokens) < SHINGLE_WORDS:
        grams = [" ".join(tokens)]
    else:
        grams = [" ".join(tokens[i : i + SHINGLE_WORDS]) for i in range(len(tokens) - SHINGLE_WORDS + 1)]
    digests = {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest(), "little") for g in grams}
    return np.fromiter(digests, dtype=np.uint64, count=len(digests))


def minhash(text: str) -> np.ndarray:
    """A MinHash signature (uint32 per permutation) of the word 3-grams of ``text``."""
    values = _shingles(text)
    # (a*x + b) mod p with 32-bit x and 61-bit a would overflow uint64, so mix the halves of a.
    a_lo, a_hi = _A & _MASK32, _A >> np.uint64(32)
    x = values[:, None]
    mixed = (a_lo * x + ((a_hi * x) << np.uint64(32)) + _B) % _PRIME
    return (mixed.min(axis=0) & _MASK32).astype(np.uint32)


class DuplicateIndex:
    """Articles seen so far, by content hash and by MinHash signature, to match new ones against.

    Signatures are bucketed by LSH bands (``BANDS`` bands of ``PERMUTATIONS // BANDS`` values), so
    a new article is compared only with articles that share a band, not with the whole store.
    """

    BANDS = 32

    def __init__(self, threshold: float):
        self.threshold = threshold
        self._by_hash: dict[str, str] = {}
        self._signatures: dict[str, np.ndarray] = {}
        self._buckets: dict[bytes, set[str]] = {}

    def add(self, article_id: str, text_hash: str, signature: np.ndarray) -> None:
        self._by_hash[text_hash] = article_id
        self._signatures[article_id] = signature
        for band in self._bands(signature):
            self._buckets.setdefault(band, set()).add(article_id)

    def remove(self, article_ids: set[str]) -> None:
        """Forget articles that are about to be replaced, so their new version isn't its own duplicate."""
        self._by_hash = {h: a for h, a in self._by_hash.items() if a not in article_ids}
        for article_id in article_ids:
            signature = self._signatures.pop(article_id, None)
            if signature is not None:
                for band in self._bands(signature):
                    self._buckets.get(band, set()).discard(article_id)

    def exact(self, text_hash: str) -> str | None:
        return self._by_hash.get(text_hash)

    def near(self, signature: np.ndarray) -> tuple[str, float] | None:
        """The most similar known article at or above the threshold, with its estimated similarity."""
        candidates = set().union(*(self._buckets.get(band, ()) for band in self._bands(signature)))
        best = None
        for article_id in sorted(candidates):
            similarity = float((self._signatures[article_id] == signature).mean())
            if similarity >= self.threshold and (best is None or similarity > best[1]):
                best = (article_id, similarity)
        return best

    def _bands(self, signature: np.ndarray) -> list[bytes]:
        rows = len(signature) // self.BANDS
        return [bytes([b]) + signature[b * rows : (b + 1) * rows].tobytes() for b in range(self.BANDS)]
