"""The one list of support judges: name → description and factory.

Settings validation (``BRIEFING_JUDGE``), the CLI's ``--judge`` help, verification, ``briefing
eval`` (which scores citations with a second judge) and ``briefing eval judge`` all read
``JUDGES``. Adding a judge is one class and one row here. Factories import their module only when
called, so reading the table costs nothing at start-up.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from briefing.answer.judge import Judge
    from briefing.chat import StructuredModel


@dataclass(frozen=True)
class JudgeEntry:
    description: str
    factory: str  # "module:Class"
    needs_llm: bool = False  # the class takes the structured LLM as its argument
    takes_threads: bool = False  # the class takes ``threads=`` (CPU threads for a local model)


JUDGES: dict[str, JudgeEntry] = {
    "lexical": JudgeEntry("content words, numbers with their scale, names and negation (no model)", "briefing.answer.judge:LexicalJudge"),
    "trained": JudgeEntry("MiniLM cross-encoder fine-tuned on human support labels, with lexical vetoes (int8 ONNX, shipped)",
                          "briefing.answer.cross_encoder:TrainedJudge", takes_threads=True),
    "learned": JudgeEntry("logistic regression over the lexical judge's features", "briefing.answer.judge:LearnedJudge"),
    "llm": JudgeEntry("the chat model's structured verdicts alone (needs a model provider)", "briefing.answer.judge:LLMJudge",
                      needs_llm=True),
    "model": JudgeEntry("the checks of meaning, then the chat model for what they leave open, one batched call per brief "
                        "(needs a model provider)", "briefing.answer.judge:ModelBackedJudge", needs_llm=True),
    "auto": JudgeEntry("`model` with an API provider (openai or a compatible base URL), else `trained`", ""),  # no factory: resolved
}
DEFAULT_JUDGE = "auto"
OFFLINE_JUDGE = "trained"
"""The offline judge `auto` picks without an API provider: the judge whose article-disjoint
cross-validated balanced accuracy beat the lexical judge's by more than the bootstrap interval
(README "Support judges"; ``briefing/support_model/card.json`` holds the figures and the decision)."""
API_PROVIDERS = frozenset({"openai"})
"""Providers whose model is capable enough to judge support (the bundled local SmolLM2 is not)."""


def judge_help() -> str:
    return " | ".join(JUDGES)


def check_judge_name(name: str) -> str:
    """``name`` if it is a registered judge, else ValueError naming the choices."""
    if name not in JUDGES:
        raise ValueError(f"unknown judge '{name}' (choose {', '.join(JUDGES)})")
    return name


def resolve_judge(name: str, llm: StructuredModel | None) -> str:
    """The judge ``name`` stands for: `auto` is `model` when ``llm`` is an API provider's, else
    the offline judge; any other name is itself."""
    if name != "auto":
        return name
    return "model" if llm is not None and getattr(llm, "provider", None) in API_PROVIDERS else OFFLINE_JUDGE


def make_judge(name: str, llm: StructuredModel | None = None, threads: int | None = None) -> Judge:
    """Build the judge ``name`` (`auto` resolved by ``resolve_judge``). Raises ConfigError for an
    unknown name, OptionError for a judge that needs a model when there is none."""
    from briefing.errors import ConfigError, OptionError

    name = resolve_judge(name, llm)
    try:
        entry = JUDGES[check_judge_name(name)]
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    module, _, cls = entry.factory.partition(":")
    factory = getattr(importlib.import_module(module), cls)
    if entry.needs_llm:
        if llm is None:
            raise OptionError(f"--judge {name} needs a model: use --provider openai (with OPENAI_API_KEY or "
                              "BRIEFING_OPENAI_BASE_URL set) or local, or another --judge")
        return factory(llm)
    return factory(threads=threads) if entry.takes_threads else factory()


def scoring_judge_for(verification: str) -> str:
    """The judge `briefing eval` scores citations with by default: one other than the verifier's,
    so citation recall and precision are not 1.0 by construction."""
    return "trained" if verification not in ("trained", "auto") else "lexical"
