"""Which stored article a new one is: the same story again (a duplicate), a newer or older version
of one (an update), or a story of its own.

Duplicates. Exact: the same headline and text once case, punctuation and spacing are ignored.
Near: a MinHash estimate of the Jaccard similarity of the texts' word 3-gram sets at or above the
threshold, *and* headlines that share most of their words. Body text alone never merges two items
with different headlines (link aggregators give every item the body "Comments"), and a text under
``SUBSTANTIVE_WORDS`` words is no evidence of a duplicate at all.

Versions. Articles with the same URL (normalized by courlan) or the same guid from the same
publisher are versions of one story; the one with the latest update or publish time is current.
"""

from __future__ import annotations

import hashlib

import numpy as np

from briefing.text import text_key, word_count

PERMUTATIONS = 128
SHINGLE_WORDS = 3
SUBSTANTIVE_WORDS = 20
"""Texts shorter than this ("Comments", "Read more.") say nothing about being the same story."""
TITLE_OVERLAP = 0.5
"""Headlines are the same story's when this share of their distinct words (Jaccard) is common."""
RELATED_TEXT = 0.3
"""Estimated Jaccard similarity of word 3-grams above which two texts sharing a guid or URL can be
versions of one story though their headlines differ (a rewritten headline over a corrected text);
below it, and with unlike headlines, the shared key is a placeholder."""
_PRIME = np.uint64((1 << 61) - 1)
_rng = np.random.default_rng(20241105)  # fixed seed: signatures must be comparable across runs
_A = _rng.integers(1, (1 << 61) - 1, size=PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, (1 << 61) - 1, size=PERMUTATIONS, dtype=np.uint64)
_MASK32 = np.uint64(0xFFFFFFFF)


def content_hash(text: str) -> str:
    """Hex SHA-256 of the duplicate-insensitive form of ``text``."""
    return hashlib.sha256(text_key(text).encode()).hexdigest()


def article_hash(title: str, text: str) -> str:
    """The article's identity: the content hash of its headline, then its text."""
    return content_hash(f"{title}\n{text}")


def substantive(text: str) -> bool:
    return word_count(text) >= SUBSTANTIVE_WORDS


def similar_titles(first: str | None, second: str | None) -> bool:
    """Whether two headlines can be one story's: most of their words shared (or one is missing)."""
    if not first or not second:
        return True
    a, b = set(text_key(first).split()), set(text_key(second).split())
    return bool(a and b) and len(a & b) / len(a | b) >= TITLE_OVERLAP


def story_keys(url: str | None, guid: str | None, publisher: str | None, scope: str) -> tuple[str | None, str | None]:
    """The keys that make two articles versions of one story: the normalized URL (for a page URL,
    not a site's front page) and the guid within its publisher (or, lacking one, its file)."""
    return _url_key(url), f"{publisher or scope}\x1f{guid}" if guid else None


def _url_key(url: str | None) -> str | None:
    from urllib.parse import urlsplit

    from courlan import normalize_url

    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or (parts.path.strip("/") == "" and not parts.query):
        return None
    try:
        normal = urlsplit(normalize_url(parts, strict=True))
    except (ValueError, AttributeError):
        return None
    host = normal.netloc.removeprefix("www.")
    return f"{host}{normal.path.rstrip('/')}" + (f"?{normal.query}" if normal.query else "")


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
    """Current articles, by identity hash and by MinHash signature of substantive texts, to match
    new ones against.

    Signatures are bucketed by LSH bands (``BANDS`` bands of ``PERMUTATIONS // BANDS`` values), so
    a new article is compared only with articles that share a band, not with the whole store.
    """

    BANDS = 32

    def __init__(self, threshold: float):
        self.threshold = threshold
        self._by_hash: dict[str, str] = {}
        self._signatures: dict[str, np.ndarray] = {}
        self._titles: dict[str, str | None] = {}
        self._buckets: dict[bytes, set[str]] = {}

    def add(self, article_id: str, identity: str, signature: np.ndarray | None, title: str | None = None) -> None:
        """Index an article; ``signature`` is None for a text too short to match on."""
        self._by_hash[identity] = article_id
        if signature is None:
            return
        self._signatures[article_id] = signature
        self._titles[article_id] = title
        for band in self._bands(signature):
            self._buckets.setdefault(band, set()).add(article_id)

    def remove(self, article_ids: set[str]) -> None:
        """Forget articles that are replaced, so a new version is not matched against them."""
        self._by_hash = {h: a for h, a in self._by_hash.items() if a not in article_ids}
        for article_id in article_ids:
            signature = self._signatures.pop(article_id, None)
            self._titles.pop(article_id, None)
            if signature is not None:
                for band in self._bands(signature):
                    self._buckets.get(band, set()).discard(article_id)

    def similarity(self, article_id: str, signature: np.ndarray) -> float | None:
        """Estimated Jaccard similarity of ``signature`` to a known article's; None when that
        article's text was too short to sign."""
        known = self._signatures.get(article_id)
        return None if known is None else float((known == signature).mean())

    def exact(self, identity: str) -> str | None:
        return self._by_hash.get(identity)

    def near(self, signature: np.ndarray, title: str | None = None) -> tuple[str, float] | None:
        """The most similar known article at or above the threshold whose headline is like
        ``title``, with its estimated similarity."""
        candidates = set().union(*(self._buckets.get(band, ()) for band in self._bands(signature)))
        best = None
        for article_id in sorted(candidates):
            similarity = float((self._signatures[article_id] == signature).mean())
            if similarity >= self.threshold and (best is None or similarity > best[1]) \
                    and similar_titles(title, self._titles[article_id]):
                best = (article_id, similarity)
        return best

    def _bands(self, signature: np.ndarray) -> list[bytes]:
        rows = len(signature) // self.BANDS
        return [bytes([b]) + signature[b * rows : (b + 1) * rows].tobytes() for b in range(self.BANDS)]
