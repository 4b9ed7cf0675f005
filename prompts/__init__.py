"""Prompt files, loaded by name (see briefing.answer.prompting)."""
