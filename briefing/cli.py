"""The `briefing` command line: parse options, call one core function, print.

Only typer is imported at module level so `briefing --help` returns at once; each command imports
what it needs.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from briefing.answer.judges import judge_help
from briefing.errors import BriefingError, OptionError
from briefing.output.render import format_help
from briefing.providers import AUTO_RULE, provider_help

app = typer.Typer(
    help="Sourced news briefings: ingest articles, then brief on them with every sentence cited and checked.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich's renderer alone takes longer than the 0.3 s start-up budget
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="Published at or after: YYYY-MM-DD, ISO time, or 24h / 7d ago.")
]
UntilOption = Annotated[str | None, typer.Option("--until", help="Published at or before (a bare date covers that day).")]
SourceOption = Annotated[str | None, typer.Option("--source", help="Only this publisher (case-insensitive).")]


def _debug() -> bool:
    return os.environ.get("BRIEFING_DEBUG", "").lower() in {"1", "true", "yes"}


USAGE_ERROR = 2
"""Exit code of a usage error: an option, argument or setting the user gave is invalid (``OptionError``)."""
FAILURE = 1
"""Exit code of everything else that stops a command: a missing path, a store or provider failure."""


def _fail(message: str, code: int = FAILURE) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def reports_errors(command):
    """Turn errors into one `Error: ...` line on stderr, exit 2 for a usage error and 1 otherwise
    (the full traceback with BRIEFING_DEBUG=1)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except BriefingError as exc:
            if _debug():
                raise
            _fail(str(exc), USAGE_ERROR if isinstance(exc, OptionError) else FAILURE)
        except Exception as exc:  # an unexpected failure still gets one line, not a traceback
            if _debug():
                raise
            _fail(f"{type(exc).__name__}: {exc} (set BRIEFING_DEBUG=1 for the traceback)")

    return wrapper


def _settings():
    from pydantic import ValidationError

    from briefing.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(p) for p in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        raise OptionError(f"invalid setting {Settings.variable(field) if field in Settings.model_fields else field}: {message}") from None


def _checked_choice(option: str, value: str | None) -> str | None:
    """``--provider`` or ``--judge`` in lower case; OptionError naming the option when it names
    nothing registered."""
    from briefing.answer.judges import check_judge_name
    from briefing.providers import check_provider_name

    if value is None:
        return None
    check = check_provider_name if option == "--provider" else check_judge_name
    try:
        return check(value.strip().lower())
    except ValueError as exc:
        raise OptionError(f"{option}: {exc}") from None


@contextmanager
def _components(provider: str | None = None, judge: str | None = None):
    """The run's Components, closed at the end, with a progress bar for a shared store's cache."""
    from briefing.output.console import CacheProgress
    from briefing.pipeline import Components

    provider, judge = _checked_choice("--provider", provider), _checked_choice("--judge", judge)
    progress = CacheProgress()
    try:
        with Components(_settings(), provider=provider, judge=judge, on_cache=progress) as components:
            yield components
    finally:
        progress.close()


class _LazySource:
    """The settings at once and the run's Components (the embedder, the store) only when a store is
    opened: a pull with nothing new imports no model or store code, so it stays quick."""

    def __init__(self, settings, stack):
        self.settings = settings
        self._stack = stack
        self._components = None

    def open_store(self, writer: bool = False):
        if self._components is None:
            self._components = self._stack.enter_context(_components())
        return self._components.open_store(writer)


@contextmanager
def _components_when_needed():
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield _LazySource(_settings(), stack)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _print_version(value: bool) -> None:
    if value:
        from briefing import __version__

        typer.echo(f"briefing {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging (-vv for debug).")] = 0,
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "openai", "chromadb", "urllib3", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    for chatty in ("trafilatura", "htmldate", "charset_normalizer"):  # they warn about pages we then report ourselves
        logging.getLogger(chatty).setLevel(max(level, logging.ERROR) if verbose < 2 else logging.DEBUG)


@app.command()
@reports_errors
def ingest(
    inputs: Annotated[list[str], typer.Argument(help="Files or folders (walked recursively), or http(s) URLs of a "
                                                "feed or an article page, fetched once.", metavar="PATH_OR_URL...")],
    prune: Annotated[bool, typer.Option("--prune", help="Remove articles whose files are gone or no longer hold them "
                                        "(items rolled off a feed downloaded again).")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any input was skipped.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Ingest articles (Markdown, text, HTML, JSON, JSONL, RSS/Atom/RDF, each also .gz) into the store."""
    from briefing.ingest.pull import ingest_inputs
    from briefing.output.console import IngestProgress

    with IngestProgress(enabled=not as_json) as progress, _components() as components:
        report = ingest_inputs(inputs, components, prune=prune, on_progress=progress.update)
    _print_ingest(report, as_json)
    if strict and report.skipped:
        raise typer.Exit(1)


def _print_ingest(report, as_json: bool) -> None:
    from briefing.output.console import print_ingest_report, print_skipped, print_warnings

    if as_json:
        _print_json(report.model_dump(mode="json"))
    else:
        print_ingest_report(report)
    print_warnings(report.warnings)
    print_skipped(report.skipped)


@app.command()
@reports_errors
def pull(
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any feed failed or is gone.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Fetch every subscribed feed (`briefing feeds add`) and ingest what is new."""
    from briefing.ingest.pull import pull as run_pull
    from briefing.output.console import IngestProgress, print_pull_report, print_skipped, print_warnings

    with IngestProgress(enabled=not as_json) as progress, _components_when_needed() as source:
        report = run_pull(source, on_progress=progress.update)
    if as_json:
        _print_json(report.model_dump(mode="json"))
    else:
        print_pull_report(report)
    print_warnings(report.ingest.warnings)
    print_skipped(report.ingest.skipped)
    if strict and (report.count("failed") or report.count("gone")):
        raise typer.Exit(1)


feeds_app = typer.Typer(help="Subscribed feeds: add, import, list, remove. `briefing pull` fetches them.",
                        no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")


@feeds_app.command("add")
@reports_errors
def feeds_add(
    urls: Annotated[list[str], typer.Argument(help="Feed URLs (or pages that name their feed).", metavar="URL...")],
    full_text: Annotated[bool, typer.Option("--full-text", help="Fetch the page of each thin item and keep its "
                                            "main text (BRIEFING_FULL_TEXT_WORDS).")] = False,
) -> None:
    """Subscribe to feeds; each is fetched once to check that it is a feed."""
    from briefing.ingest.pull import add_feeds

    for line in add_feeds(_settings(), urls, full_text=full_text):
        typer.echo(line)


@feeds_app.command("import")
@reports_errors
def feeds_import(
    opml: Annotated[Path, typer.Argument(help="An OPML file, as feed readers export their subscriptions.")],
    full_text: Annotated[bool, typer.Option("--full-text", help="Fetch full text for every imported feed.")] = False,
) -> None:
    """Subscribe to every feed an OPML file lists (not fetched until `briefing pull`)."""
    from briefing.ingest.pull import import_opml

    for line in import_opml(_settings(), opml, full_text=full_text):
        typer.echo(line)


@feeds_app.command("list")
@reports_errors
def feeds_list(as_json: JsonOption = False) -> None:
    """The subscribed feeds, with what the last pull found."""
    from briefing.ingest.feeds import load_feeds
    from briefing.output.console import print_feeds

    feeds = load_feeds(_settings())
    if as_json:
        _print_json([feed.model_dump(mode="json") for feed in feeds])
    else:
        print_feeds(feeds)


@feeds_app.command("remove")
@reports_errors
def feeds_remove(url: Annotated[str, typer.Argument(help="The feed's URL as `briefing feeds list` shows it.")]) -> None:
    """Unsubscribe from a feed; the articles it brought stay in the store."""
    from briefing.ingest.pull import remove_feed

    typer.echo(remove_feed(_settings(), url))


@app.command()
@reports_errors
def sources(since: SinceOption = None, until: UntilOption = None, source: SourceOption = None, as_json: JsonOption = False) -> None:
    """List ingested articles: date, publisher, title, chunk count."""
    from briefing.dates import retrieval_filter
    from briefing.options import resolve_source
    from briefing.output.console import CacheProgress, print_sources
    from briefing.store import open_catalog

    settings = _settings()
    window = retrieval_filter(since, until, source=source, zone=settings.zone)
    progress = CacheProgress()
    try:
        catalog = open_catalog(settings, progress)
    finally:
        progress.close()
    window = resolve_source(window, catalog.publishers() if catalog else [])
    articles = catalog.list_articles(window.since, window.until, window.source) if catalog else []
    if as_json:
        _print_json([a.model_dump(mode="json") for a in articles])
    else:
        print_sources(articles, empty_hint=catalog is None)


@app.command()
@reports_errors
def show(
    ref: Annotated[str, typer.Argument(help="An article id, its citation key (as `briefing sources` lists it), a chunk "
                                       "key such as 3fa2b1c0-1, or the start of an id.", metavar="ID_OR_KEY")],
    as_json: JsonOption = False,
) -> None:
    """Print one stored article: metadata, the text exactly as stored, its copies and earlier versions."""
    from briefing.output.console import print_article
    from briefing.store import open_catalog

    catalog = open_catalog(_settings())
    found = catalog.find_articles(ref) if catalog else []
    if catalog is None or not found:
        raise OptionError(f"no stored article has the id or key '{ref}' (`briefing sources --json` lists ids and keys)")
    if len(found) > 1:
        raise OptionError(f"'{ref}' starts {len(found)} article ids ({', '.join(found[:5])}...): give more of it")
    detail = catalog.article_detail(found[0])
    if as_json:
        _print_json(detail.model_dump(mode="json"))
    else:
        print_article(detail)


@app.command()
@reports_errors
def stats(as_json: JsonOption = False) -> None:
    """Counts, date range, size and embedder of the store."""
    from briefing.output.console import print_stats

    with _components() as components:
        result = components.store.stats()
    if as_json:
        _print_json(result.model_dump(mode="json"))
    else:
        print_stats(result)


@app.command()
@reports_errors
def config(as_json: JsonOption = False) -> None:
    """Show the effective settings (from BRIEFING_* variables and .env); API keys are masked."""
    from briefing.output.console import print_settings
    from briefing.settings import Settings

    values = _settings().public()
    if as_json:
        _print_json(values)
    else:
        print_settings(values, {name: Settings.variable(name) for name in values})


ProviderOption = Annotated[
    str | None, typer.Option("--provider", help=f"{provider_help()} (default: BRIEFING_PROVIDER; auto: {AUTO_RULE}).")
]
JudgeOption = Annotated[str | None, typer.Option("--judge", help=f"{judge_help()} (default: BRIEFING_JUDGE).")]
KOption = Annotated[int | None, typer.Option(
    "-k", help="ask: evidence chunks to retrieve (default 6); brief: most chunks read per story (default: BRIEFING_EVIDENCE_K).")]
LengthOption = Annotated[int | None, typer.Option(
    "--length", "-n", help="Stories in the brief, most salient first (default: BRIEFING_BRIEF_LENGTH).")]
FormatOption = Annotated[str | None, typer.Option("--format", "-f", help=f"{format_help()} (default: from -o's suffix, else md).")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout.")]


def _emit(text: str, output: Path | None) -> None:
    from briefing.output.files import write_atomic

    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        write_atomic(output, text)
    except OSError as exc:
        raise BriefingError(f"-o {output}: cannot write it ({exc.strerror or exc})") from None
    typer.echo(f"wrote {output}", err=True)


def _request_command(kind: str, name: str, argument_help: str, summary: str):
    """The `brief` and `ask` commands: the same options, one kind of request each (`--length`,
    which counts a brief's stories, is hidden from `ask`, where it is a usage error)."""

    def command(
        text: str,
        since: SinceOption = None,
        until: UntilOption = None,
        source: SourceOption = None,
        length: LengthOption = None,
        k: KOption = None,
        provider: ProviderOption = None,
        judge: JudgeOption = None,
        fmt: FormatOption = None,
        output: OutputOption = None,
    ) -> None:
        _run_and_emit(kind, text, since, until, source, k, length, provider, judge, fmt, output)

    # Set as objects, not strings: this module's annotations are strings evaluated in its globals.
    command.__annotations__["text"] = Annotated[str, typer.Argument(help=argument_help, metavar=name)]
    if kind != "brief":
        command.__annotations__["length"] = Annotated[int | None, typer.Option("--length", "-n", hidden=True)]
    command.__doc__ = summary
    return reports_errors(command)


app.command("brief")(_request_command("brief", "query", "What the brief is about.",
                                      "Write a brief in which every sentence cites its sources and was checked against them."))


@app.command()
def schema() -> None:
    """Print the JSON schema of a brief as written by `--format json`."""
    from briefing.output.render import json_schema

    typer.echo(json_schema(), nl=False)


app.command("ask")(_request_command("answer", "question", "The question.",
                                    'Answer a question in one to five cited sentences, or say "The sources don\'t say."'))


def _run_and_emit(kind: str, text: str, since, until, source, k, length, provider, judge, fmt: str | None,
                  output: Path | None) -> None:
    """Run a brief or an answer, print or write it, and report the model's token use on stderr."""
    from briefing import pipeline
    from briefing.options import check_output, make_request, output_format
    from briefing.output.render import render

    request = make_request(kind, text, since=since, until=until, source=source, k=k, length=length,
                           zone=_settings().zone)
    check_output(output)
    chosen = output_format(fmt, output)
    with _components(provider, judge) as components:
        result = pipeline.run(request, components)
    _emit(render(result, chosen), output)
    if result.usage.calls:
        typer.echo(result.usage.summary(), err=True)


@app.command()
@reports_errors
def daily(
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today in BRIEFING_TIMEZONE).")] = None,
    topics: Annotated[Path | None, typer.Option("--topics", help="Topics TOML (default: BRIEFING_HOME/briefs.toml).")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the briefs (default: BRIEFING_HOME/briefs).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the brief; write nothing.")] = False,
    only_new: Annotated[bool, typer.Option("--only-new", help="Leave out what the previous brief reported.")] = False,
    provider: ProviderOption = None,
    judge: JudgeOption = None,
) -> None:
    """Write the daily brief: every topic over the 24 hours before the brief time, as md, json and html."""
    from briefing.daily import run_daily, summary
    from briefing.output.files import write_daily
    from briefing.output.render import render_daily

    with _components(provider, judge) as components:
        result = run_daily(components, day=day, topics=topics, out=out, since=since, until=until, only_new=only_new,
                           notify=lambda note: typer.echo(note, err=True))
    if dry_run:
        typer.echo(render_daily(result.daily, "md"), nl=False)
    else:
        for path in write_daily(result.daily, result.out_dir):
            typer.echo(f"wrote {path}", err=True)
    typer.echo(summary(result.daily), err=True)


@app.command("eval")
@reports_errors
def evaluate(
    target: Annotated[str, typer.Argument(help="A folder or file of suites (e.g. evals/), or `judge`.")],
    provider: ProviderOption = None,
    judge: JudgeOption = None,
    scoring_judge: Annotated[str | None, typer.Option("--scoring-judge", help=f"Judge that scores citations: {judge_help()} "
                             "(default: BRIEFING_EVAL_JUDGE, else one other than --judge).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write report.json and report.html here.")] = None,
    fail_under: Annotated[list[str] | None, typer.Option("--fail-under",
                                                         help="METRIC=VALUE: exit 1 if the mean is lower (repeatable).")] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Reuse the saved result of a case already run.")] = True,
    data: Annotated[Path | None, typer.Option("--data", help="judge: JSONL rows of claim, source, label (and dataset).")] = None,
    calibrate: Annotated[Path | None, typer.Option("--calibrate", help="judge: fit thresholds and weights on this dev file first.")] = None,
    embeddings: Annotated[bool, typer.Option("--embeddings/--no-embeddings", help="judge: include the embedding baseline.")] = True,
    as_json: JsonOption = False,
) -> None:
    """Evaluate faithfulness: `briefing eval evals/` runs suites; `briefing eval judge --data F` scores the judges."""
    if target == "judge":
        _evaluate_judges(data, calibrate, embeddings, provider, out, as_json)
    else:
        _evaluate_suites(Path(target), provider, judge, scoring_judge, out, fail_under or [], resume, as_json)


def _evaluate_suites(target: Path, provider, judge, scoring_judge, out, fail_under, resume, as_json) -> None:
    from briefing.evaluate.run import run_suites
    from briefing.evaluate.scoring import check_fail_under, summary_json
    from briefing.output.console import JudgeProgress, print_eval_report
    from briefing.output.report import write_eval_report

    with JudgeProgress(enabled=not as_json) as progress, _components(provider, judge) as components:
        report = run_suites(target, components, out_dir=out, scoring_judge=scoring_judge, resume=resume, progress=progress.task)
    failures = check_fail_under(report, fail_under)
    if as_json:
        _print_json(summary_json(report))
    else:
        print_eval_report(report)
    if out is not None:
        for path in write_eval_report(report.model_dump(mode="json"), out):
            typer.echo(f"wrote {path}", err=True)
    for suite in report.suites:
        if suite.skipped:
            typer.echo(f"skipped suite {suite.suite}: {suite.skipped}", err=True)
    if failures:
        typer.echo("Error: below --fail-under: " + "; ".join(failures), err=True)
        raise typer.Exit(1)


def _evaluate_judges(data, calibrate, embeddings, provider, out, as_json) -> None:
    from briefing.evaluate.judges import evaluate_judges_as_asked
    from briefing.output.console import JudgeProgress, print_judge_reports
    from briefing.output.report import write_judge_report

    with JudgeProgress(enabled=not as_json) as progress:
        reports = evaluate_judges_as_asked(_settings(), data, calibrate_on=calibrate, embeddings=embeddings,
                                           provider=provider, progress=progress.task)
    if as_json:
        _print_json({"data": str(data) if data else None, "judges": {r.judge: r.model_dump(exclude={"judge", "roc"}) for r in reports}})
    elif reports:
        print_judge_reports(reports)
    if out is not None and reports:
        for path in write_judge_report([r.model_dump() for r in reports], out):
            typer.echo(f"wrote {path}", err=True)
    if calibrate is not None:
        typer.echo(f"calibration fitted on {calibrate} and saved in the package (briefing/judge_calibration.json)", err=True)


def entry() -> None:
    """The `briefing` command: ``app`` with the parser's own usage errors (a missing argument, an
    unknown option, ``-k five``) printed as one line like every other error, exit code 2."""
    command = typer.main.get_command(app)
    try:
        code = command.main(prog_name="briefing", standalone_mode=False)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(FAILURE)
    except Exception as exc:
        # The parser's errors are click's (typer vendors click in newer releases): matched by name.
        names = {cls.__name__ for cls in type(exc).__mro__}
        if "ClickException" not in names:
            raise
        if "NoArgsIsHelpError" in names or "UsageError" not in names:
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        context = getattr(exc, "ctx", None)
        where = f" (see `{context.command_path} --help`)" if context is not None else ""
        typer.echo(f"Error: {exc.format_message()}{where}", err=True)  # type: ignore[attr-defined]
        sys.exit(USAGE_ERROR)
    sys.exit(code if isinstance(code, int) else 0)
