"""Bad input on the command line: one `Error:` line naming the option, argument or path at fault,
exit code 2 for a usage error and 1 for a missing path, and nothing stored is lost.

The command runs through ``cli.entry``, the installed `briefing` script, so the parser's own errors
(a missing argument, an unknown option) are checked as users see them. The embedder is the hashing
fake from conftest: these tests are about our checks, not retrieval.
"""

from __future__ import annotations

import json
import sys

import pytest

from briefing.cli import entry
from tests.conftest import CORPUS, HashingEmbedder


@pytest.fixture
def cli(monkeypatch, capsys):
    """Runs `briefing ARGS...` in-process; returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["briefing", *args])
        with pytest.raises(SystemExit) as exited:
            entry()
        out = capsys.readouterr()
        return exited.value.code, out.out, out.err

    return run


@pytest.fixture
def corpus(cli, monkeypatch):
    """The sample corpus ingested with the hashing fake embedder."""
    embedder = HashingEmbedder()
    monkeypatch.setattr("briefing.pipeline.make_embedder", lambda *args: embedder)
    code, _, err = cli("ingest", str(CORPUS))
    assert code == 0, err
    return cli


def stored(cli) -> dict:
    code, out, _ = cli("stats", "--json")
    assert code == 0
    return {k: json.loads(out)[k] for k in ("articles", "chunks", "files")}


def test_version(cli):
    from briefing import __version__

    assert cli("--version") == (0, f"briefing {__version__}\n", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["brief", ""], "Error: the query is empty: say what the brief is about\n"),
        (["ask", "   "], "Error: the question is empty: say what the question is\n"),
        (["brief", "Kursk", "--since", "2024-12-01", "--until", "2024-11-01"],
         "Error: --since 2024-12-01 is after --until 2024-11-01: the window is empty\n"),
        (["brief", "Kursk", "--since", "2024-13-01"],
         "Error: --since: invalid date '2024-13-01': use YYYY-MM-DD, an ISO timestamp, or 24h / 7d\n"),
        (["brief", "Kursk", "-k", "0"], "Error: -k must be between 1 and 50 evidence chunks, got 0\n"),
        (["ask", "Who?", "-k", "51"], "Error: -k must be between 1 and 50 evidence chunks, got 51\n"),
        (["brief", "Kursk", "--length", "0"], "Error: --length must be between 1 and 30 stories, got 0\n"),
        (["ask", "Who?", "--length", "3"], "Error: --length counts the stories of a brief; `ask` gives one short answer\n"),
        (["brief", "Kursk", "-o", "brief.pdf"],
         "Error: -o brief.pdf: cannot tell the format from '.pdf'; add -f md | json | html, or use a suffix "
         ".md, .markdown, .json, .html, .htm\n"),
        (["brief", "Kursk", "-f", "pdf"], "Error: -f/--format: unknown format 'pdf' (choose md, json, html)\n"),
        (["brief", "Kursk", "--provider", "gpt"],
         "Error: --provider: unknown provider 'gpt' (choose auto, openai, local, extractive)\n"),
        (["ask", "Who?", "--judge", "magic"], "Error: --judge: unknown judge 'magic' (choose lexical, trained, learned, llm, model, auto)\n"),
        (["brief"], "Error: Missing argument 'query'. (see `briefing brief --help`)\n"),
        (["brief", "Kursk", "-k", "five"],
         "Error: Invalid value for '-k': Input should be a valid integer, unable to parse string as an integer "
         "(see `briefing brief --help`)\n"),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(cli, args, message):
    assert cli(*args) == (2, "", message)


def test_an_invalid_setting_is_a_usage_error_naming_the_variable(cli, monkeypatch):
    monkeypatch.setenv("BRIEFING_PROVIDER", "chatgpt")
    assert cli("brief", "Kursk") == (
        2, "", "Error: invalid setting BRIEFING_PROVIDER: unknown provider 'chatgpt' (choose auto, openai, local, extractive)\n"
    )


def test_an_unknown_source_lists_the_closest_publishers(corpus):
    code, out, err = corpus("brief", "North Korean troops", "--source", "Pacific Dsk")
    assert (code, out) == (2, "")
    assert err.startswith("Error: --source 'Pacific Dsk' is not a publisher in the store; closest: 'Pacific Desk (sample)', '")
    assert err.endswith(" (`briefing sources` lists them all)\n") and err.count("(sample)'") == 3 and err.count("\n") == 1
    assert corpus("sources", "--source", "Lakeshore Times")[0] == 2  # `sources` checks it too
    wire = corpus("brief", "North Korean troops", "--source", "northgate wire (SAMPLE)", "-f", "json")
    assert wire[0] == 0, wire[2]  # a name in another case is the same publisher
    assert {e["publisher"] for e in json.loads(wire[1])["evidence"]} == {"Northgate Wire (sample)"}


def test_output_format_follows_the_suffix_when_no_format_is_given(corpus, tmp_path):
    for name, starts in (("brief.html", "<!DOCTYPE html>"), ("brief.JSON", "{"), ("brief.md", "# ")):
        code, _, err = corpus("brief", "North Korean troops", "-o", str(tmp_path / name))
        assert (code, err) == (0, f"wrote {tmp_path / name}\n")
        assert (tmp_path / name).read_text().startswith(starts), name
    code, _, _ = corpus("brief", "North Korean troops", "-f", "md", "-o", str(tmp_path / "forced.html"))
    assert code == 0 and (tmp_path / "forced.html").read_text().startswith("# ")  # -f wins over the suffix


def test_ingest_refuses_another_scheme_and_a_missing_path_and_loses_nothing(corpus, tmp_path):
    before = stored(corpus)
    url = "ftp://example.org/world/rss.xml"
    assert corpus("ingest", url, "--prune") == (
        2, "", f"Error: {url}: `briefing ingest` fetches http and https URLs only; download it first and ingest "
               "the file\n")
    missing = tmp_path / "no-such-folder"
    assert corpus("ingest", str(CORPUS), str(missing), "--prune") == (1, "", f"Error: {missing}: no such file or folder\n")
    # a missing path is found before any URL is fetched (nothing listens on port 9)
    assert corpus("ingest", "http://127.0.0.1:9/feed.xml", str(missing)) == (1, "", f"Error: {missing}: no such file or folder\n")
    assert stored(corpus) == before  # neither run read, wrote or pruned anything


def test_a_brief_from_an_empty_store_says_where_it_looked(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BRIEFING_HOME", ".briefing")  # the default: relative to where the command runs
    where = (tmp_path / ".briefing" / "stores" / "local-articles").resolve()
    assert cli("brief", "Kursk", "--provider", "extractive") == (
        1, "", f"Error: nothing ingested yet in {where}: run `briefing ingest PATH` first, or set BRIEFING_HOME "
               "to the folder you ingested into\n")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("BRIEFING_TIMEZONE", "Mars/Base", "unknown time zone 'Mars/Base' (an IANA name, e.g. UTC or Europe/Kyiv)"),
        ("BRIEFING_DAILY_TIME", "25:99", "invalid time '25:99': use HH:MM, 00:00 to 24:00"),
        ("BRIEFING_OPENAI_BASE_URL", "notaurl", "'notaurl' is not an http:// or https:// URL (e.g. http://127.0.0.1:11434/v1)"),
    ],
)
def test_settings_are_checked_when_read(cli, monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    assert cli("daily", "--dry-run") == (2, "", f"Error: invalid setting {variable}: {message}\n")


def test_output_that_cannot_be_a_file_is_refused_before_any_work(cli, tmp_path):
    (tmp_path / "a-file").write_text("x")
    assert cli("brief", "Kursk", "-o", str(tmp_path)) == (
        2, "", f"Error: -o {tmp_path}: is a folder; give a file name, e.g. {tmp_path / 'brief.md'}\n")
    assert cli("brief", "Kursk", "-o", str(tmp_path / "a-file" / "brief.md")) == (
        2, "", f"Error: -o {tmp_path / 'a-file' / 'brief.md'}: {tmp_path / 'a-file'} is a file, not a folder\n")


def test_choices_are_read_in_any_case_and_a_unique_part_of_a_publisher_name_is_enough(corpus, tmp_path):
    code, out, err = corpus("brief", "North Korean troops", "--source", "pacific desk", "--provider", "EXTRACTIVE",
                            "-f", "JSON")
    assert code == 0, err
    data = json.loads(out)
    assert data["filters"]["source"] == "Pacific Desk (sample)" and data["provider"] == "extractive"
    assert {e["publisher"] for e in data["evidence"]} == {"Pacific Desk (sample)"}
    code, out, err = corpus("brief", "North Korean troops", "--source", "(sample)")
    assert (code, out) == (2, "") and err.startswith("Error: --source '(sample)' names several publishers; which: '")
    assert corpus("brief", "Kursk", "--source", " ") == (
        2, "", "Error: --source is empty: name a publisher (`briefing sources` lists them)\n")
    assert corpus("brief", "North Korean troops", "-f", "markdown")[1].startswith("# ")
