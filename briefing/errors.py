"""The error hierarchy. The CLI prints any BriefingError as one line: ``Error: <message>``."""


class BriefingError(Exception):
    """Base class for every error the tool reports to its user."""


class ConfigError(BriefingError):
    """A setting is missing or invalid."""


class OptionError(BriefingError):
    """A value given on the command line or in a request (a date, a format) is invalid."""


class InputError(BriefingError):
    """An input file or record cannot be read or parsed.

    ``location`` names the file (and line, for JSONL) so the message stands on its own.
    """

    def __init__(self, location: str, reason: str):
        self.location = location
        self.reason = reason
        super().__init__(f"{location}: {reason}")


class StoreError(BriefingError):
    """The vector store or its catalog cannot be opened or used."""


class EmbedderMismatchError(StoreError):
    """The store was built with a different embedding model than the one configured."""
