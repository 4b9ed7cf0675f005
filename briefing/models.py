"""Pydantic types shared by every stage: ingest → store → retrieve → generate → verify → render."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field


class RawArticle(BaseModel):
    """An article as a loader read it, before cleaning, hashing and chunking."""

    title: str | None = None
    publisher: str | None = None
    url: str | None = None
    published: AwareDatetime | None = None
    text: str
    source_path: str
    source_id: str | None = Field(None, description="The id the input gave the article, if any.")
    line: int | None = Field(None, description="Line of the record in a JSONL file.")


class SourceRef(BaseModel):
    """Another place the same story was published: kept when a duplicate is folded into an article."""

    title: str | None = None
    publisher: str | None = None
    url: str | None = None
    published: AwareDatetime | None = None
    source_path: str


class Article(BaseModel):
    """One stored article. ``id`` is derived from its normalized text, so a re-post shares it."""

    id: str
    key: str = Field(description="Short prefix of the id used in chunk keys (8 hex unless that collides).")
    title: str
    publisher: str | None = None
    url: str | None = None
    published: AwareDatetime | None = None
    text: str
    source_path: str
    source_id: str | None = None
    alternates: list[SourceRef] = Field(default_factory=list)


class Chunk(BaseModel):
    """A run of whole sentences of an article; ``article.text[start:end] == text``."""

    id: str = Field(description="Citation key: `<article key>-<position>`, stable across runs.")
    article_id: str
    text: str
    start: int
    end: int
    position: int

    @property
    def span(self) -> slice:
        return slice(self.start, self.end)


class Skipped(BaseModel):
    """An input that was not ingested, and why."""

    path: str
    line: int | None = None
    reason: str

    def message(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.reason}"


class IngestReport(BaseModel):
    """What one `briefing ingest` run did."""

    files: int = Field(0, description="Input files seen.")
    unchanged_files: int = Field(0, description="Files whose content hash matched the manifest: nothing redone.")
    articles: int = Field(0, description="Distinct articles the input files hold in the store.")
    chunks: int = Field(0, description="Chunks of those articles.")
    embedded: int = Field(0, description="Chunks embedded in this run.")
    duplicates: int = Field(0, description="Articles folded into another as an alternate source.")
    exact_duplicates: int = 0
    near_duplicates: int = 0
    removed_files: int = Field(0, description="Files pruned because they are gone.")
    removed_articles: int = 0
    skipped: list[Skipped] = Field(default_factory=list)
    seconds: float = 0.0


class ArticleInfo(BaseModel):
    """A line of `briefing sources`."""

    id: str
    key: str
    title: str
    publisher: str | None
    url: str | None
    published: AwareDatetime | None
    chunks: int
    alternates: int
    source_path: str


class StoreStats(BaseModel):
    """What `briefing stats` reports."""

    location: str
    collection: str
    embedder: str
    dimension: int | None
    articles: int
    chunks: int
    vectors: int
    alternates: int
    publishers: int
    undated: int
    earliest: datetime | None
    latest: datetime | None
    files: int
    size_bytes: int
