"""Prompt files from `prompts/` (shipped as the briefing.prompts package), loaded by name."""

from __future__ import annotations

import functools
import string
from importlib import resources

from briefing.errors import ConfigError

# The placeholders each prompt must contain; checked when the prompt is loaded, before any model call.
REQUIRED = {
    "brief_system": set(),
    "brief_user": {"evidence", "query", "sections"},
    "repair_system": set(),
    "repair_user": {"sentence", "evidence"},
    "answer_system": set(),
    "answer_user": {"evidence", "question"},
    "judge_system": set(),
    "judge_user": {"claim", "source"},
}


@functools.cache
def load_prompt(name: str) -> str:
    try:
        text = resources.files("briefing.prompts").joinpath(f"{name}.md").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"prompt '{name}' not found in prompts/") from None
    found = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    expected = REQUIRED.get(name, found)
    if found != expected:
        raise ConfigError(f"prompt '{name}' has placeholders {sorted(found)}, expected {sorted(expected)}")
    return text.strip()


def render_prompt(name: str, **values: str) -> str:
    return load_prompt(name).format(**values)
