"""What ingest reads and writes through the ``Store``: the file manifest, the entries it matches new
articles against, and the removals (``--prune``, retention). Ingest never reaches the catalog
itself, so the store alone decides how these are kept (``tests/test_architecture.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from briefing.models import SourceRef
from briefing.store.catalog import Catalog, StoryEntry
from briefing.store.catalog_rows import FileState
from briefing.store.record import ServerRecord


class StoreManifest:
    """The manifest half of ``Store`` (a mixin over its catalog and server record)."""

    catalog: Catalog
    record: ServerRecord

    if TYPE_CHECKING:  # defined by Store and StoreWrites
        @property
        def location(self) -> str: ...
        def server_lost_vectors(self) -> bool: ...
        def reconcile(self) -> tuple[int, int]: ...

    def repair(self) -> None:
        """Make Chroma and the catalog agree after an interrupted write or a wiped server."""
        if self.catalog.get_meta("vectors_pending") == "1" or self.server_lost_vectors():
            self.reconcile()

    def share_earlier(self) -> str | None:
        """Upload what this home holds and Chroma lacks; says what was uploaded, or None."""
        return self.record.share(self.catalog)

    @property
    def revision(self) -> int:
        return self.catalog.revision

    @property
    def ingest_format(self) -> str | None:
        """The ingest rules (``briefing.ingest.run.INGEST_FORMAT``) the store was last written under."""
        return self.catalog.get_meta("ingest_format")

    def set_ingest_format(self, value: str) -> None:
        self.catalog.set_meta("ingest_format", value)

    def file_state(self, path: str) -> FileState | None:
        return self.catalog.file_state(path)

    def file_paths(self) -> list[str]:
        """Paths of the files this home ingested."""
        return self.catalog.file_paths()

    def files_to_read(self) -> list[str]:
        return self.catalog.files_to_read()

    def read_all_again(self) -> int:
        """Mark every file of this home to be read again; returns how many."""
        return self.catalog.reset_digests()

    def article_ids_of_file(self, path: str) -> set[str]:
        return self.catalog.article_ids_of_file(path)

    def sources_of_file(self, path: str) -> list[tuple[str, SourceRef, bool]]:
        """(stored article id, the file's copy, whether the copy is a repeat of the same item)."""
        return self.catalog.sources_of_file(path)

    def copies_of(self, article_id: str) -> list[SourceRef]:
        """Where the copies of a stored article came from (alternates and repeats)."""
        return self.catalog.copies_of(article_id)

    def dedupe_entries(self) -> Iterator[tuple[str, str, np.ndarray | None, str]]:
        return self.catalog.dedupe_entries()

    def story_entries(self) -> Iterator[StoryEntry]:
        return self.catalog.story_entries()

    def citation_keys(self) -> dict[str, str]:
        """Citation key -> article id, for every stored article."""
        return self.catalog.keys()

    def indexed_chunks(self, article_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        return self.catalog.indexed_chunks(article_ids)

    def file_totals(self, paths: Iterable[str]) -> tuple[int, int, int]:
        return self.catalog.file_totals(paths)

    def left_article_ids(self) -> set[str]:
        """Current articles no longer in the files that brought them (rolled off a feed, edited
        away), with the earlier versions they replaced: what ``--prune`` removes besides gone files."""
        return self.catalog.left_article_ids()

    def existing_article_ids(self, article_ids: set[str]) -> set[str]:
        """Those of these articles the store holds."""
        return self.catalog.existing_article_ids(article_ids)

    def left_already(self, article_ids: set[str]) -> set[str]:
        """Those of these articles already marked as no longer in their file."""
        return self.catalog.left_already(article_ids)

    def published_before(self, cutoff: datetime) -> set[str]:
        """Articles, current or earlier versions, published before ``cutoff`` (retention)."""
        return self.catalog.published_before(cutoff)
