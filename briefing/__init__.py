"""briefing: sourced news briefings over a Chroma store of articles."""

__version__ = "0.2.0"
