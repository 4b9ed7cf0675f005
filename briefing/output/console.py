"""Terminal output for the CLI: progress bars and tables (rich). Briefs are rendered in render.py."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from briefing.models import ArticleDetail, ArticleInfo, Feed, IngestReport, Notice, PullReport, Skipped, StoreStats

PIPE_WIDTH = 160  # tables written to a pipe or file are not wrapped at 80 columns


def _console(err: bool = False) -> Console:
    """A console made at print time, so it writes to whatever sys.stdout/stderr is then."""
    stream = sys.stderr if err else sys.stdout
    return Console(stderr=err, width=None if stream.isatty() else PIPE_WIDTH)


class IngestProgress:
    """A progress bar over files, with files and chunks per second; silent when disabled."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        stderr = _console(err=True)
        self.progress = Progress(
            TextColumn("[bold]ingest"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rates]}"),
            TimeElapsedColumn(),
            console=stderr,
            transient=True,
            disable=not (enabled and stderr.is_terminal),
        )
        self.task: TaskID | None = None
        self.started = time.perf_counter()

    def __enter__(self) -> IngestProgress:
        self.progress.__enter__()
        self.task = self.progress.add_task("ingest", total=None, rates="")
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def update(self, path: Path | None, report: IngestReport) -> None:
        """Advance on each file done; refresh the rates after each embedding batch too."""
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        task = self.progress.tasks[0]
        done = task.completed + (path is not None)
        rates = f"{done / elapsed:.1f} files/s · {report.embedded} embedded · {report.embedded / elapsed:.0f} chunks/s"
        if self.task is not None:
            self.progress.update(self.task, total=report.files, completed=done, rates=rates)


class CacheProgress:
    """A progress bar while the local cache of a shared store is built from the Chroma server (stderr,
    only on a terminal); a line when it is done, on any stderr."""

    def __init__(self):
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        self.started = time.perf_counter()

    def __call__(self, what: str, done: int, total: int) -> None:
        if self.progress is None:
            stderr = _console(err=True)
            self.progress = Progress(TextColumn("[bold]cache {task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=stderr, transient=True, disable=not stderr.is_terminal)
            self.progress.start()
            self.started = time.perf_counter()
        if what not in self.tasks:
            self.tasks[what] = self.progress.add_task(what, total=total)
        self.progress.update(self.tasks[what], completed=done, total=total)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            counts = ", ".join(f"{int(self.progress.tasks[t].completed)} {what}" for what, t in self.tasks.items())
            _console(err=True).print(f"local cache built from the server in {time.perf_counter() - self.started:.1f} s: {counts}")
            self.progress = None


def print_ingest_report(report: IngestReport) -> None:
    duplicates = str(report.duplicates)
    if report.exact_duplicates or report.near_duplicates:
        duplicates += f" (found now: {report.exact_duplicates} exact, {report.near_duplicates} near)"
    rows = [
        ("files", f"{report.files} ({report.unchanged_files} unchanged)"),
        ("articles", str(report.articles)),
        ("chunks", str(report.chunks)),
        ("embedded", str(report.embedded)),
        ("duplicates", duplicates),
        ("updated stories", str(report.updates)),
        ("skipped", str(len(report.skipped))),
        ("warnings", str(len(report.warnings))),
        ("seconds", f"{report.seconds:.1f}"),
    ]
    if report.repeats:
        rows.insert(5, ("seen again", f"{report.repeats} (the same items from the same outlet: one source each)"))
    if report.left_articles:
        rows.append(("no longer in their files", f"{_articles(report.left_articles)}, kept (`--prune` removes them)"))
    if report.too_old:
        rows.append(("older than retention", f"{report.too_old} items not stored (BRIEFING_RETENTION_DAYS)"))
    if report.removed_articles:
        what = [f"{report.removed_files} gone files"] if report.removed_files else []
        what += [f"{report.expired} expired"] if report.expired else []
        rows.append(("removed", _articles(report.removed_articles) + (f" ({', '.join(what)})" if what else "")))
    _print_fields("Ingest summary", rows)


def _articles(count: int) -> str:
    return f"{count} article" + ("" if count == 1 else "s")


def print_pull_report(report: PullReport) -> None:
    """One line per feed that failed, is gone or noted something (stderr), then the summary."""
    if not report.feeds and not report.skipped_gone:
        _console().print("no feeds to pull: `briefing feeds add URL` or `briefing feeds import FILE.opml` first")
        return
    err = _console(err=True)
    for outcome in report.feeds:
        for note in outcome.notes:
            err.print(f"note {outcome.url}: {note}", markup=False, highlight=False, soft_wrap=True)
        if outcome.problem:
            err.print(f"{outcome.status} {outcome.url}: {outcome.problem}", markup=False, highlight=False, soft_wrap=True)
    counts = ", ".join(f"{report.count(s)} {s}" for s in ("new", "not-modified", "unchanged", "failed", "gone") if report.count(s))
    rows = [("feeds", f"{len(report.feeds)} fetched ({counts or 'none'})" +
             (f"; {report.skipped_gone} gone, skipped" if report.skipped_gone else "")),
            ("fetch seconds", f"{report.fetch_seconds:.1f}")]
    _print_fields("Pull summary", rows)
    if report.ingest.files or report.ingest.removed_articles:
        print_ingest_report(report.ingest)
    else:
        _console().print("nothing new to ingest")


def print_feeds(feeds: list[Feed]) -> None:
    if not feeds:
        _console().print("no feeds: `briefing feeds add URL` or `briefing feeds import FILE.opml`")
        return
    table = Table(show_header=True, header_style="bold", title=f"{len(feeds)} feeds")
    for column in ("url", "title", "full text", "last pulled (UTC)", "status"):
        table.add_column(column)
    for feed in feeds:
        status = "gone" if feed.gone else (feed.status or "not pulled yet")
        if feed.problem:
            status += f": {feed.problem}"
        pulled = feed.last_pulled.strftime("%Y-%m-%d %H:%M") if feed.last_pulled else ""
        table.add_row(feed.url, feed.title or "", "yes" if feed.full_text else "", pulled, status)
    _console().print(table)


def print_skipped(skipped: list[Skipped]) -> None:
    for item in skipped:
        _console(err=True).print(f"skipped {item.message()}", markup=False, highlight=False, soft_wrap=True)


def print_warnings(warnings: list[Notice]) -> None:
    for item in warnings:
        _console(err=True).print(f"warning {item.message()}", markup=False, highlight=False, soft_wrap=True)


def print_sources(articles: list[ArticleInfo], empty_hint: bool = False) -> None:
    if not articles:
        hint = "nothing ingested yet: run `briefing ingest PATH`" if empty_hint else "no articles match"
        _console().print(hint)
        return
    table = Table(show_header=True, header_style="bold", title=f"{len(articles)} articles")
    table.add_column("published (UTC)", no_wrap=True)
    table.add_column("publisher")
    table.add_column("title")
    table.add_column("chunks", justify="right")
    table.add_column("also in", justify="right")
    table.add_column("updates", justify="right")
    for article in articles:
        date = article.published.strftime("%Y-%m-%d %H:%M") if article.published else "undated"
        table.add_row(date, article.publisher or "?", article.title, str(article.chunks), str(article.alternates or ""),
                      str(len(article.earlier_versions) or ""))
    _console().print(table)


def print_stats(stats: StoreStats) -> None:
    span = "–".join(d.strftime("%Y-%m-%d") for d in (stats.earliest, stats.latest) if d) or "none"
    rows = [
        ("location", stats.location),
        ("collection", stats.collection),
        ("embedder", f"{stats.embedder} ({stats.dimension or '?'}-d)"),
        ("articles", f"{stats.articles} ({stats.undated} undated, {stats.publishers} publishers)"),
        ("earlier versions", str(stats.earlier_versions)),
        ("alternate sources", str(stats.alternates)),
        ("chunks", f"{stats.chunks} ({stats.vectors} vectors)"),
        ("files", str(stats.files)),
        ("published", span),
        ("size on disk", _size(stats.size_bytes)),
    ]
    _print_fields("Store", rows)


def _print_fields(title: str, rows: list[tuple[str, str]]) -> None:
    table = Table(show_header=False, title=title, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    for name, value in rows:
        table.add_row(name, value)
    _console().print(table)


def _size(n_bytes: int) -> str:
    n = float(n_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


class JudgeProgress:
    """One progress bar per judge being scored."""

    def __init__(self, enabled: bool = True):
        stderr = _console(err=True)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=stderr, transient=True, disable=not (enabled and stderr.is_terminal))

    def __enter__(self) -> JudgeProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def task(self, label: str, total: int):
        task = self.progress.add_task(label, total=total)
        return lambda: self.progress.advance(task)


def print_judge_reports(reports) -> None:
    datasets = sorted({d for r in reports for d in r.per_dataset})
    table = Table(title="Support judges against human labels", header_style="bold")
    for column in ["judge", "n", "threshold", "balanced acc (mean)", *[f"BA {d}" for d in datasets], "precision", "recall", "F1", "AUC"]:
        table.add_column(column, justify="left" if column == "judge" else "right")
    for r in reports:
        cut = "" if r.threshold is None else f"{r.threshold:.3f}"
        per_dataset = [f"{r.per_dataset.get(d, float('nan')):.3f}" for d in datasets]
        table.add_row(r.judge, str(r.n), cut, f"{r.balanced_accuracy:.3f}", *per_dataset,
                      f"{r.precision:.3f}", f"{r.recall:.3f}", f"{r.f1:.3f}", f"{r.auc:.3f}")
    _console().print(table)
    _console().print("precision, recall and F1 are for catching unsupported claims; AUC ranks supported above unsupported.")
    for r in reports:
        if r.note:
            _console().print(f"{r.judge}: {r.note}", markup=False, highlight=False)


def print_eval_report(report) -> None:
    scored = f" · scored by {report.scoring_judge}" if report.scoring_judge else ""
    table = Table(title=f"Faithfulness · provider={report.provider} · model={report.model} · judge={report.judge}{scored}",
                  header_style="bold", title_justify="left")
    for column in ("metric", "mean", "95% interval", "cases"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for name, value in report.aggregate.items():
        table.add_row(name, f"{value.mean:.3f}", f"[{value.low:.3f}, {value.high:.3f}]", str(value.n))
    _console().print(table)
    actions = ", ".join(f"{k} {v}" for k, v in report.actions.items())
    _console().print(f"sentences: {actions}", markup=False)
    cases = Table(header_style="bold", title="Cases", title_justify="left")
    for column in ("suite", "case", "kind", "cit. recall", "key facts", "abstention", "dropped", "error"):
        cases.add_column(column)
    fmt = lambda v: "" if v is None else f"{v:.2f}"  # noqa: E731
    for suite in report.suites:
        for c in suite.cases:
            cases.add_row(c.suite, c.id, c.kind, fmt(c.metrics.get("citation_recall")), fmt(c.metrics.get("key_fact_recall")),
                          fmt(c.metrics.get("abstention_accuracy")), str(c.actions.get("dropped", "")), c.error or "")
    _console().print(cases)


def print_settings(values: dict[str, object], variables: dict[str, str]) -> None:
    """The effective settings as a table: environment variable and value (secrets already masked)."""
    table = Table(box=None, header_style="bold")
    table.add_column("variable")
    table.add_column("value")
    for name, value in values.items():
        table.add_row(variables[name], "unset" if value is None else str(value))
    _console().print(table)


def print_article(article: ArticleDetail) -> None:
    """Metadata rows, then the stored text as it is, then copies and earlier versions."""
    when = lambda value: value.isoformat() if value else "undated"  # noqa: E731
    state = "current" if article.current else f"an earlier version, replaced by {article.superseded_by}"
    if article.left_file:
        state += f"; no longer in its file since {article.left_file:%Y-%m-%d} (kept until --prune)"
    rows = [("id", article.id), ("key", f"{article.key} (chunks {article.key}-0 … {article.key}-{max(article.chunks - 1, 0)})"),
            ("title", article.title), ("publisher", article.publisher or "?"), ("url", article.url or ""),
            ("published", when(article.published)), ("updated", when(article.updated) if article.updated else ""),
            ("file", article.source_path), ("source id", article.source_id or ""), ("state", state)]
    _print_fields("Article", [(name, value) for name, value in rows if value])
    out = _console()
    out.rule("text as stored")
    out.print(article.text, markup=False, highlight=False, soft_wrap=True)
    for label, copies in (("also in", article.alternates), ("seen again", article.repeats)):
        if copies:
            out.rule(f"{label} ({len(copies)})")
            for copy in copies:
                out.print(f"{when(copy.published)}  {copy.publisher or '?'}  {copy.title or ''}  {copy.url or ''}  "
                          f"({copy.source_path})", markup=False, highlight=False, soft_wrap=True)
    for version in article.earlier_versions:
        out.rule(f"earlier version {version.id}, {when(version.published)}")
        out.print(version.text, markup=False, highlight=False, soft_wrap=True)
