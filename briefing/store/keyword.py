"""The BM25 keyword index over chunk texts (bm25s), rebuilt whenever the catalog's revision moves."""

from __future__ import annotations

import json
import logging
import math
import re
from pathlib import Path

import numpy as np

from briefing.store.folders import replace_folder
from briefing.terms import split_unspaced
from briefing.text import fold, indexed_text

STOPWORDS = frozenset(
    """a an and are as at be been but by for from had has have he her his i in is it its of on or
    our she that the their them they this to was we were what when where which who will with would
    you your not no said says after before over than then there these those also into about more
    most such can could may might do does did so if up out""".split()
)


def _bm25s():
    import bm25s

    # bm25s sets its own logger to DEBUG when imported; keep it as quiet as ours.
    logging.getLogger("bm25s").setLevel(max(logging.getLogger(__name__).getEffectiveLevel(), logging.INFO))
    return bm25s


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without stopwords; a crude plural strip so 'troops' meets 'troop'.
    Chinese, Japanese and Thai runs become character pairs (``terms.split_unspaced``)."""
    tokens = []
    for word in (w for run in re.findall(r"\w+", fold(text)) for w in split_unspaced(run)):
        if word in STOPWORDS:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        tokens.append(word)
    return tokens


class KeywordIndex:
    """BM25 over chunk ids; ``revision`` is the catalog revision the index reflects."""

    def __init__(self, ids: list[str], retriever, revision: int):
        self.ids = ids
        self.retriever = retriever
        self.revision = revision

    @classmethod
    def build(cls, chunks: list[tuple[str, str, str]], revision: int) -> KeywordIndex:
        """Index (chunk id, title, text) triples; the title counts as part of each chunk."""
        bm25s = _bm25s()
        retriever = None
        if chunks:
            retriever = bm25s.BM25()
            corpus = [tokenize(indexed_text(title, text)) or ["\u2205"] for _, title, text in chunks]
            retriever.index(corpus, show_progress=False)
        return cls([chunk_id for chunk_id, _, _ in chunks], retriever, revision)

    def save(self, folder: Path) -> None:
        replace_folder(folder, self._write)

    def _write(self, folder: Path) -> None:
        if self.retriever is not None:
            self.retriever.save(str(folder / "bm25"))
        (folder / "ids.json").write_text(json.dumps({"revision": self.revision, "ids": self.ids}))

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex | None:
        bm25s = _bm25s()
        try:
            meta = json.loads((folder / "ids.json").read_text())
        except (OSError, ValueError):
            return None
        retriever = bm25s.BM25.load(str(folder / "bm25")) if meta["ids"] else None
        return cls(meta["ids"], retriever, meta["revision"])

    def term_weights(self, query: str) -> dict[str, float]:
        """Each of ``query``'s index tokens (``tokenize``) that some chunk has, with its inverse
        document frequency over the whole index, log(1 + (N - df + 0.5) / (df + 0.5)) as in BM25.
        A token no chunk has is left out: it cannot tell chunks apart. Empty when nothing is indexed."""
        if self.retriever is None:
            return {}
        vocab, scores = self.retriever.vocab_dict, self.retriever.scores
        indptr, total = scores["indptr"], int(scores["num_docs"])
        weights = {}
        for token in dict.fromkeys(tokenize(query)):
            index = vocab.get(token)
            df = int(indptr[index + 1] - indptr[index]) if index is not None else 0
            if df:
                weights[token] = math.log(1 + (total - df + 0.5) / (df + 0.5))
        return weights

    def search(self, query: str, k: int = 10, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Top ``k`` chunks by BM25 score (above zero), only among ``allowed`` ids when given."""
        tokens = tokenize(query)
        if self.retriever is None or not tokens:
            return []
        scores = self.retriever.get_scores(tokens)
        if allowed is not None:
            mask = np.fromiter((cid in allowed for cid in self.ids), dtype=bool, count=len(self.ids))
            scores = np.where(mask, scores, 0.0)
        top = np.argsort(-scores, kind="stable")[:k]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
