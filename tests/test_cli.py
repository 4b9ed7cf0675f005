"""The command line: exact user-facing text, JSON shapes, one-line errors."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from briefing.cli import app
from tests.conftest import CORPUS, FIXTURES, ROOT, HashingEmbedder

runner = CliRunner()


@pytest.fixture
def fake_model(monkeypatch):
    """Replaces the configured embedder with the hashing fake, for CLI tests about our output."""
    embedder = HashingEmbedder()
    monkeypatch.setattr("briefing.pipeline.make_embedder", lambda *args: embedder)
    return embedder


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("ingest", "sources", "stats"):
        assert command in result.output


def test_ingest_json_summary(fake_model):
    result = runner.invoke(app, ["ingest", str(FIXTURES / "formats"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert {"files", "articles", "chunks", "embedded", "duplicates", "skipped"} <= set(summary)
    assert (summary["files"], summary["articles"], summary["skipped"]) == (7, 11, [])
    again = json.loads(runner.invoke(app, ["ingest", str(FIXTURES / "formats"), "--json"]).stdout)
    assert again["embedded"] == 0 and again["articles"] == 11


def test_ingest_table_and_skipped_lines(tmp_path, fake_model):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "t", "text": "Kursk fighting continued."}\n42\n')
    result = runner.invoke(app, ["ingest", str(bad)])
    assert result.exit_code == 0
    assert "Ingest summary" in result.stdout and "embedded" in result.stdout
    assert result.stderr.splitlines() == [
        f"warning {bad}: the article has no publish date; stored undated (left out of date windows and daily briefs)",
        f"skipped {bad}:2: expected a JSON object, got int",
    ]
    strict = runner.invoke(app, ["ingest", str(bad), "--strict"])
    assert strict.exit_code == 1


def test_sources_lists_and_filters(fake_model):
    runner.invoke(app, ["ingest", str(FIXTURES / "formats")])
    everything = json.loads(runner.invoke(app, ["sources", "--json"]).stdout)
    assert len(everything) == 11
    window = json.loads(runner.invoke(app, ["sources", "--json", "--since", "2024-11-01", "--until", "2024-11-30"]).stdout)
    assert sorted(a["title"] for a in window) == [
        "Kyiv says North Korean units reached the front",
        "Pentagon raises estimate",
        "Weather: first snow in the capital",
        "Zelensky says 11,000 North Korean troops in Kursk",
    ]
    by_source = json.loads(runner.invoke(app, ["sources", "--json", "--source", "line daily (SAMPLE)"]).stdout)
    assert {a["publisher"] for a in by_source} == {"Line Daily (sample)"} and len(by_source) == 3
    table = runner.invoke(app, ["sources"])
    assert "Pentagon raises estimate" in table.stdout and "2024-11-04 18:00" in table.stdout


def test_sources_before_any_ingest():
    result = runner.invoke(app, ["sources"])
    assert result.exit_code == 0
    assert result.stdout == "nothing ingested yet: run `briefing ingest PATH`\n"


def test_stats_json(fake_model):
    runner.invoke(app, ["ingest", str(FIXTURES / "formats")])
    stats = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert (stats["articles"], stats["vectors"], stats["embedder"]) == (11, stats["chunks"], "fake:hashing-64")
    assert stats["earliest"].startswith("2024-10-19") and stats["latest"].startswith("2024-12-19")
    assert stats["undated"] == 2 and stats["size_bytes"] > 0


def test_bad_date_is_a_one_line_usage_error():
    result = runner.invoke(app, ["sources", "--since", "last tuesday"])
    assert result.exit_code == 2
    assert result.stderr == "Error: --since: invalid date 'last tuesday': use YYYY-MM-DD, an ISO timestamp, or 24h / 7d\n"


def test_bad_setting_is_a_one_line_usage_error(monkeypatch):
    monkeypatch.setenv("BRIEFING_CHUNK_WORDS", "lots")
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: invalid setting BRIEFING_CHUNK_WORDS: ")
    assert result.stderr.count("\n") == 1


def test_unreachable_chroma_server_is_a_clear_error(monkeypatch, fake_model):
    monkeypatch.setenv("BRIEFING_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("BRIEFING_CHROMA_PORT", "9")
    result = runner.invoke(app, ["ingest", str(FIXTURES / "formats" / "items.jsonl")])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot reach the Chroma server at 127.0.0.1:9 (")
    assert fake_model.embedded == 0


def test_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("BRIEFING_DEBUG", "1")
    result = runner.invoke(app, ["sources", "--since", "nonsense"])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception) and "invalid date" in str(result.exception)


@pytest.mark.slow
def test_real_ingest_of_the_sample_corpus_with_the_packaged_model(isolated_home, onnx_models):
    """End to end through the installed command, with the real all-MiniLM-L6-v2 from the package
    (its ONNX graphs exported and timed once per test session)."""
    env = {**os.environ, "BRIEFING_HOME": str(isolated_home), "BRIEFING_MODELS_DIR": str(onnx_models)}
    briefing = [sys.executable, "-m", "briefing"]
    first = subprocess.run([*briefing, "ingest", str(CORPUS), "--json"], env=env, capture_output=True, text=True, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    # The re-post pair has different headlines and URLs: two articles, never merged on body text alone.
    assert summary["files"] == summary["articles"] == 20 and summary["duplicates"] == 0 and summary["skipped"] == []
    assert summary["embedded"] == summary["chunks"] > summary["articles"]
    again = json.loads(subprocess.run([*briefing, "ingest", str(CORPUS), "--json"], env=env, capture_output=True,
                                      text=True, cwd=ROOT).stdout)
    assert again["embedded"] == 0
    stats = json.loads(subprocess.run([*briefing, "stats", "--json"], env=env, capture_output=True, text=True).stdout)
    assert stats["embedder"] == "local:all-MiniLM-L6-v2-onnx" and stats["dimension"] == 384
    assert stats["vectors"] == stats["chunks"] == summary["chunks"]


def test_brief_extractive_markdown_and_json(fake_model):
    runner.invoke(app, ["ingest", str(CORPUS)])
    markdown = runner.invoke(app, ["brief", "state of foreign involvement in the Kursk region", "--provider", "extractive"])
    assert markdown.exit_code == 0, markdown.output
    assert "## Where sources disagree" in markdown.stdout and "## Sources" in markdown.stdout
    assert "\nWritten from the sources' own sentences (no language model).\n" in markdown.stdout
    footer = markdown.stdout.rstrip().splitlines()[-1]
    assert footer.endswith("· judge=trained · no language model") and "each quoted word for word from its source" in footer
    assert "verified" not in markdown.stdout  # never the word for a copied sentence
    result = runner.invoke(app, ["brief", "state of foreign involvement in the Kursk region", "--provider", "extractive", "-f", "json"])
    data = json.loads(result.stdout)
    from briefing.settings import Settings
    from briefing.store.store import open_catalog

    catalog = open_catalog(Settings())
    chunks = {c.id: c.text for c, _ in catalog.chunks_with_articles(catalog.chunk_ids())}
    shown = [s for sec in data["sections"] for s in sec["sentences"] if s["action"] != "dropped"]
    assert len(shown) >= 3
    for sentence in shown:
        valid = [c for c in sentence["citations"] if c["valid"]]
        assert valid, sentence
        for citation in valid:
            assert citation["quote"] in chunks[citation["key"]]  # every key resolves to an ingested chunk


def test_brief_cites_only_the_window(fake_model):
    runner.invoke(app, ["ingest", str(CORPUS)])
    result = runner.invoke(app, ["brief", "North Korean troops", "--provider", "extractive", "-f", "json",
                                 "--since", "2024-11-01", "--until", "2024-11-30"])
    data = json.loads(result.stdout)
    assert data["evidence"] and all("2024-11-01" <= e["published"][:10] <= "2024-11-30" for e in data["evidence"])


def test_brief_writes_a_file_atomically(tmp_path, fake_model):
    runner.invoke(app, ["ingest", str(CORPUS)])
    target = tmp_path / "briefs" / "kursk.html"
    result = runner.invoke(app, ["brief", "Kursk", "--provider", "extractive", "-f", "html", "-o", str(target)])
    assert result.exit_code == 0 and result.stderr == f"wrote {target}\n"
    assert target.read_text().startswith("<!DOCTYPE html>")


def test_brief_with_openai_but_no_key_is_a_one_line_error(fake_model):
    result = runner.invoke(app, ["brief", "Kursk", "--provider", "openai"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no OpenAI key: set OPENAI_API_KEY, or BRIEFING_OPENAI_BASE_URL for an OpenAI-compatible server\n"
    )


def test_unknown_format_is_a_one_line_error(fake_model):
    runner.invoke(app, ["ingest", str(FIXTURES / "formats")])
    result = runner.invoke(app, ["brief", "Kursk", "--provider", "extractive", "-f", "pdf"])
    assert (result.exit_code, result.stderr) == (2, "Error: -f/--format: unknown format 'pdf' (choose md, json, html)\n")


def test_schema_command_prints_the_brief_json_schema():
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    assert schema["title"] == "Briefing" and "evidence" in schema["properties"]
