"""Pydantic types shared by every stage: ingest → store → retrieve → generate → verify → render."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

Day = date  # a calendar date, named apart from the ``date`` field of DailyBrief


class RawArticle(BaseModel):
    """An article as a loader read it, before cleaning, hashing and chunking."""

    title: str | None = None
    publisher: str | None = None
    url: str | None = None
    published: AwareDatetime | None = None
    updated: AwareDatetime | None = Field(None, description="When the source last changed it, if it says.")
    text: str
    source_path: str
    source_id: str | None = Field(None, description="The id the input gave the article (a feed guid), if any.")
    line: int | None = Field(None, description="Line of the record in a JSONL file.")
    warnings: list[str] = Field(default_factory=list, description="What the loader was unsure of (stderr).")

    @property
    def version_time(self) -> AwareDatetime | None:
        return version_time(self.published, self.updated)


def version_time(published: datetime | None, updated: datetime | None) -> datetime | None:
    """The time of a version of a story: the later of its update and publish times, if any."""
    return max((t for t in (published, updated) if t is not None), default=None)


class SourceRef(BaseModel):
    """Another place the same story was published: kept when a duplicate is folded into an article."""

    title: str | None = None
    publisher: str | None = None
    url: str | None = None
    published: AwareDatetime | None = None
    source_path: str


class Article(BaseModel):
    """One stored article. ``id`` is derived from its normalized headline and text, so a re-post
    under the same headline shares it."""

    id: str
    key: str = Field(description="Short prefix of the id used in chunk keys (8 hex unless that collides).")
    title: str
    publisher: str | None = Field(None, description="The outlet, as the input names it.")
    url: str | None = None
    published: AwareDatetime | None = Field(None, description="None: undated, left out of every date window.")
    updated: AwareDatetime | None = None
    text: str = Field(description="Cleaned text, beginning with the headline so that it can be cited.")
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
    overlap: int = Field(
        0, description="Characters at its start that end the previous chunk too; they are not embedded again."
    )

    @property
    def span(self) -> slice:
        return slice(self.start, self.end)


class _InputPlace(BaseModel):
    path: str
    line: int | None = Field(None, description="Line of the record in a JSONL file.")

    def where(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


class Skipped(_InputPlace):
    """An input that was not ingested, and why."""

    reason: str

    def message(self) -> str:
        return f"{self.where()}: {self.reason}"


class Notice(_InputPlace):
    """Something stored with a caveat (an undated article, a guessed encoding, an update), and why."""

    text: str

    def message(self) -> str:
        return f"{self.where()}: {self.text}"


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
    updates: int = Field(0, description="Versions of stored stories found now: a newer one replaces the current, "
                         "an older one is kept as history.")
    repeats: int = Field(0, description="Items seen again (same outlet, same headline and text, as in a later "
                         "download of a feed): one source, not counted as duplicates.")
    left_articles: int = Field(0, description="Articles that left the file that brought them in this run (rolled "
                               "off a feed, edited away): kept in the store until `--prune` or retention removes them.")
    removed_files: int = Field(0, description="Files pruned because they are gone.")
    removed_articles: int = Field(0, description="Articles removed from the store in this run: those of pruned files, "
                                  "those no longer in their files (`--prune`) and expired ones.")
    expired: int = Field(0, description="Of removed_articles, those published before the retention window "
                         "(BRIEFING_RETENTION_DAYS).")
    too_old: int = Field(0, description="Items not stored because they were published before the retention window.")
    skipped: list[Skipped] = Field(default_factory=list)
    warnings: list[Notice] = Field(default_factory=list, description="Articles stored with a caveat, one line each.")
    seconds: float = 0.0


class Feed(BaseModel):
    """A subscribed feed and what the last pulls learned of it."""

    url: str = Field(description="Where the feed is fetched; a permanent redirect updates it.")
    full_text: bool = Field(False, description="Fetch the page of a thin item (`feeds add --full-text`).")
    title: str | None = None
    added: datetime
    etag: str | None = None
    last_modified: str | None = None
    digest: str | None = Field(None, description="SHA-256 of the last body fetched: the same bytes are not kept twice.")
    last_pulled: datetime | None = None
    status: str | None = Field(None, description="Outcome of the last pull: new, unchanged, not-modified, failed, gone.")
    problem: str | None = None
    misses: int = Field(0, description="Pulls in a row that answered 404 (``briefing.ingest.feeds.GONE_AFTER`` mark it gone).")
    gone: bool = Field(False, description="The server said the feed is gone; pulls skip it until it is added again.")
    moved_from: list[str] = Field(default_factory=list)


class FeedOutcome(BaseModel):
    """What one pull did with one subscribed feed."""

    url: str = Field(description="The feed's URL after this pull (a permanent redirect updates it).")
    status: str = Field(description="new (a new body kept and ingested), unchanged (the same bytes again), "
                        "not-modified (304), failed, or gone (404 or 410).")
    problem: str | None = Field(None, description="Why it failed or is gone, one line.")
    notes: list[str] = Field(default_factory=list, description="What was overcome or changed (retries, a move, "
                             "a charset disagreement, pages kept as the feed's text), one line each.")
    snapshot: str | None = Field(None, description="The archived file ingested from this feed, if any.")
    bytes: int = Field(0, description="Size of the body fetched, decoded.")


class PullReport(BaseModel):
    """What one `briefing pull` did."""

    feeds: list[FeedOutcome] = Field(default_factory=list)
    skipped_gone: int = Field(0, description="Subscribed feeds marked gone, not fetched.")
    ingest: IngestReport
    fetch_seconds: float = Field(0.0, description="Seconds spent fetching the feeds (after any wait for another run's lock; "
                                 "pages of full-text items count in ingest.seconds).")
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(outcome.status == status for outcome in self.feeds)


class ArticleVersion(BaseModel):
    """An earlier version of a story, kept in the catalog after a newer one replaced it."""

    id: str
    title: str
    published: AwareDatetime | None
    updated: AwareDatetime | None = None
    source_path: str


class ArticleInfo(BaseModel):
    """A line of `briefing sources`."""

    id: str
    key: str
    title: str
    publisher: str | None
    url: str | None
    published: AwareDatetime | None
    updated: AwareDatetime | None = None
    chunks: int
    alternates: int
    source_path: str
    earlier_versions: list[ArticleVersion] = Field(
        default_factory=list, description="Versions this one replaced (same URL or guid), oldest first."
    )


class StoredVersion(BaseModel):
    """An earlier version of a story with the text the catalog keeps of it."""

    id: str
    title: str
    published: AwareDatetime | None
    updated: AwareDatetime | None = None
    source_path: str
    text: str


class ArticleDetail(BaseModel):
    """What `briefing show` prints: one stored article as the store keeps it."""

    id: str
    key: str = Field(description="Citation key prefix: chunk keys are `<key>-<n>`.")
    title: str
    publisher: str | None
    url: str | None
    published: AwareDatetime | None
    updated: AwareDatetime | None = None
    source_path: str
    source_id: str | None = Field(None, description="The input's own id (a feed guid).")
    current: bool = Field(description="False for an earlier version a newer one replaced.")
    superseded_by: str | None = None
    left_file: AwareDatetime | None = Field(None, description="When it was found no longer in its file (kept until --prune).")
    chunks: int
    text: str = Field(description="The text exactly as stored (the headline first).")
    alternates: list[SourceRef] = Field(default_factory=list, description="Other outlets' copies.")
    repeats: list[SourceRef] = Field(default_factory=list, description="The same item seen again (other downloads).")
    earlier_versions: list[StoredVersion] = Field(default_factory=list, description="Versions this one replaced, oldest first.")


class StoreStats(BaseModel):
    """What `briefing stats` reports."""

    location: str
    collection: str
    embedder: str
    dimension: int | None
    articles: int
    earlier_versions: int = Field(0, description="Replaced versions of stories, kept in the catalog.")
    chunks: int
    vectors: int
    alternates: int
    publishers: int
    undated: int
    earliest: datetime | None
    latest: datetime | None
    files: int
    size_bytes: int


# --- retrieval -------------------------------------------------------------------------------


class Evidence(BaseModel):
    """A retrieved chunk as shown to the model: enough to re-check any citation from a saved brief."""

    key: str = Field(description="The chunk id, cited as the citation key.")
    article_id: str
    text: str
    start: int = Field(description="Offset of the chunk in its article's text.")
    title: str
    publisher: str | None = None
    published: AwareDatetime | None = None
    url: str | None = None
    score: float = Field(0.0, description="Fused retrieval score (reciprocal rank fusion).")
    similarity: float | None = Field(None, description="Cosine similarity of the chunk to the query.")
    excerpt: str | None = Field(
        None, description="The sentences of `text` closest to the query, one per line, as shown to the model; "
        "None when the model saw all of `text`."
    )


class Story(BaseModel):
    """One event in a brief's window, as one or more outlets reported it: the chunks that report it,
    grouped at retrieval (``answer.stories``)."""

    id: str = Field(description="s1, s2, ... in order of salience within its brief.")
    title: str = Field(description="The headline of its most relevant article.")
    keys: list[str] = Field(description="Its evidence chunks (citation keys), most relevant first.")
    article_ids: list[str]
    outlets: list[str] = Field(description="Distinct publishers that report it.")
    first_published: AwareDatetime | None = None
    last_published: AwareDatetime | None = None
    relevance: float = Field(description="The relevance gate's probability for its most relevant chunk, 0-1.")
    salience: float = Field(description="Closeness to the topic plus headline coverage, outlets and recency, less what "
                            "the previous daily brief reported (thresholds.toml [salience]).")
    reported_before: bool = Field(False, description="Daily briefs: the previous daily brief cited one of its articles.")


class RetrievalFilter(BaseModel):
    """The window, publishers and keywords a command retrieved from."""

    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    source: str | None = None
    publishers: list[str] = Field(default_factory=list, description="Any of these publishers (daily topics).")
    keywords: list[str] = Field(default_factory=list, description="Chunks whose title or text has any of these words.")

    def publisher_names(self) -> list[str]:
        return ([self.source] if self.source else []) + self.publishers

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.publisher_names() or self.keywords)


MAX_K = 50
"""Most evidence chunks a request may ask for (``-k``, ``BRIEFING_EVIDENCE_K``)."""


MAX_LENGTH = 30
"""Most stories a brief may ask for (``--length``, ``BRIEFING_BRIEF_LENGTH``)."""


class Request(BaseModel):
    """What a user asked for: a brief on a topic or an answer to a question, within a filter."""

    kind: Literal["brief", "answer"] = "brief"
    query: str
    filters: RetrievalFilter = Field(default_factory=RetrievalFilter)
    k: int | None = Field(None, ge=1, le=MAX_K,
                          description="Answers: evidence chunks to retrieve (None: 6). Briefs: most chunks read per story "
                          "(None: BRIEFING_EVIDENCE_K).")
    length: int | None = Field(None, ge=1, le=MAX_LENGTH,
                               description="Most stories (briefs); None: BRIEFING_BRIEF_LENGTH.")


# --- generation ------------------------------------------------------------------------------


class DraftCitation(BaseModel):
    key: str = Field(description="Key of an evidence chunk, exactly as given.")
    quote: str = Field(description="Exact words copied from that chunk that support the sentence.")


class DraftSentence(BaseModel):
    section: str = Field("Key developments", description="Section the sentence belongs to.")
    text: str = Field(description="One sentence.")
    citations: list[DraftCitation] = Field(default_factory=list)
    origin: Literal["model", "source"] = Field(
        "model", description="`model`: written by the LLM; `source`: a source sentence picked by the tool."
    )


class Draft(BaseModel):
    """What the model writes: a headline and sentences, each with its citations."""

    headline: DraftSentence
    sentences: list[DraftSentence] = Field(default_factory=list)


class CallRecord(BaseModel):
    """One model call: what it was for, its tokens, whether the cache answered, how long it took."""

    purpose: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    seconds: float = 0.0


class Usage(BaseModel):
    """Token use of the model calls behind one result, in total and per call."""

    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    records: list[CallRecord] = Field(default_factory=list)

    def record(self, call: CallRecord) -> None:
        self.records.append(call)
        self.calls += 1
        self.cached_calls += call.cached
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens

    def summary(self) -> str:
        return (f"{self.calls} model calls ({self.cached_calls} from cache), "
                f"{self.prompt_tokens} prompt + {self.completion_tokens} completion tokens")


# --- verification ----------------------------------------------------------------------------


class Citation(BaseModel):
    """A checked citation: the quote found in the cited chunk, with its offsets in the article."""

    key: str
    quote: str
    start: int | None = Field(None, description="Offset of the quote in the article text, when found.")
    end: int | None = None
    url: str | None = None
    valid: bool = True
    problem: str | None = Field(None, description="Why the citation is not valid.")


class Verdict(BaseModel):
    supported: bool
    score: float = Field(description="The judge's confidence that the cited text supports the sentence, 0–1.")
    reason: str
    judge: str


Action = Literal["kept", "repaired", "replaced", "dropped"]

ABSTAIN = "The sources don't say."
"""What `ask` answers when the evidence does not answer the question (then it lists the closest sources)."""


class CheckedSentence(BaseModel):
    section: str
    text: str
    citations: list[Citation]
    verdict: Verdict
    action: Action
    original: str | None = Field(None, description="The drafted sentence, when it was repaired, replaced or dropped.")
    quotation: bool = Field(False, description="The text is a verbatim source sentence (a replacement).")
    origin: Literal["model", "source"] = Field("model", description="Who drafted it: the LLM or the tool's own selection.")
    new: bool | None = Field(None, description="Daily briefs: not in the previous brief (True) or already reported (False).")

    @property
    def shown(self) -> bool:
        return self.action != "dropped"

    @property
    def verbatim(self) -> bool:
        """The text is a source's own sentence, not a model's: picked by the tool or a replacement."""
        return self.quotation or self.origin == "source"


class Section(BaseModel):
    title: str
    sentences: list[CheckedSentence]


class QuestionReading(BaseModel):
    """What the tool read from a question (``answer.question.read_question``), saved with its answer."""

    asks: str = Field(description="figure | money | age | date | person | place | reason | statement | event | yes-no | thing")
    names: list[str] = Field(default_factory=list, description="The names the question is about.")
    owner: str | None = Field(None, description="Whose statement or figure is asked for (\"the ministry's estimate\").")
    latest: bool = Field(False, description="It asks for the newest report (\"latest\", \"now\").")
    window: RetrievalFilter | None = Field(None, description="The window its words set (\"on December 20\"), when they set one.")
    window_phrase: str | None = Field(None, description="The words that set the window.")
    window_applied: bool = Field(False, description="The window was used (no --since/--until was given).")
    parts: list[str] = Field(default_factory=list, description="Its sub-questions, when it asks two things.")
    language: str | None = Field(None, description="Its language code, when clear.")


class Briefing(BaseModel):
    """A verified brief or answer, self-contained for audit: it carries the evidence the model was shown."""

    kind: Literal["brief", "answer"] = "brief"
    query: str
    headline: CheckedSentence | None = Field(None, description="None when no headline survived verification.")
    sections: list[Section]
    evidence: list[Evidence]
    stories: list[Story] = Field(default_factory=list, description="Briefs: the stories a shown sentence cites, most salient first.")
    filters: RetrievalFilter = Field(default_factory=RetrievalFilter)
    provider: str
    model: str
    judge: str
    usage: Usage = Field(default_factory=Usage)
    created_at: AwareDatetime
    abstained: bool = Field(False, description="Answers: the sources don't say; `evidence` holds the closest found.")
    abstain_reason: str | None = None
    question: QuestionReading | None = Field(None, description="Answers: what the tool read from the question.")
    unanswered: list[str] = Field(default_factory=list, description="Answers: the parts of the question no source answers.")
    hide_repeats: bool = Field(False, description="Render without sentences already reported (daily --only-new).")
    version: str = "1"

    def sentences(self) -> list[CheckedSentence]:
        """Every checked sentence, headline first, whatever verification decided."""
        head = [self.headline] if self.headline else []
        return head + [s for section in self.sections for s in section.sentences]

    def is_shown(self, sentence: CheckedSentence) -> bool:
        """Shown to the reader: kept by verification, and not a repeat when repeats are hidden
        (daily --only-new). Rendering and evaluation both go by this."""
        return sentence.shown and not (self.hide_repeats and sentence.new is False)

    def shown(self) -> list[CheckedSentence]:
        return [s for s in self.sentences() if self.is_shown(s)]

    def counts(self) -> dict[str, int]:
        """Sentences by verification action (kept, repaired, replaced, dropped) and, of those kept in
        any way, by who wrote the text: ``quoted`` (a source's sentence word for word) or
        ``checked`` (written by the model and checked against its sources)."""
        checked = self.sentences()
        out = {action: sum(s.action == action for s in checked) for action in ("kept", "repaired", "replaced", "dropped")}
        out["sentences"] = len(checked)
        out["quoted"] = sum(s.shown and s.verbatim for s in checked)
        out["checked"] = sum(s.shown and not s.verbatim for s in checked)
        return out


# --- daily briefs ----------------------------------------------------------------------------


class Topic(BaseModel):
    """One topic of a daily brief, from the topics TOML file."""

    model_config = {"extra": "forbid"}

    title: str
    query: str
    publishers: list[str] = Field(default_factory=list, description="Only these publishers.")
    keywords: list[str] = Field(default_factory=list, description="Only chunks mentioning one of these.")
    length: int = Field(6, ge=1, le=20, description="Most stories.")


class TopicBrief(BaseModel):
    topic: Topic
    briefing: Briefing
    note: str | None = Field(None, description="Said instead of content when the window holds nothing.")


class DailyBrief(BaseModel):
    """Every topic briefed over one day's window, with what the previous brief already reported."""

    date: date
    since: AwareDatetime
    until: AwareDatetime
    timezone: str
    topics: list[TopicBrief]
    undated_left_out: int = Field(description="Articles without a publish date, which no daily window can hold.")
    previous: Day | None = Field(None, description="The earlier brief sentences were compared with.")
    only_new: bool = False
    created_at: AwareDatetime
