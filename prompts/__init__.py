"""Prompt files, loaded by name (see briefing.prompting)."""
