"""Daily briefs: windows, time zones, undated articles, idempotent re-runs, novelty, empty topics.

The extractive provider writes the briefs (no LLM) and the hashing fake embeds (see conftest)."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from briefing.daily import NOTHING, daily_window, example_topics_path, load_topics, make_daily, zone
from briefing.errors import ConfigError, InputError
from briefing.ingest import ingest
from briefing.output.files import write_daily
from briefing.output.render import daily_markdown
from briefing.pipeline import Components
from briefing.settings import Settings
from tests.conftest import FIXTURES

DAILY = FIXTURES / "daily"
UTC = UTC


@pytest.fixture
def store(fake_embedder):
    settings = Settings()
    ingest([DAILY / "items.jsonl"], Components(settings, embedder=fake_embedder))
    return settings


def run(settings, day, fake_embedder, out, **options):
    topics = load_topics(DAILY / "topics.toml")
    return make_daily(day, topics, Components(settings, provider="extractive", embedder=fake_embedder), out_dir=out, **options)


def cited_times(daily):
    return sorted(e.published for t in daily.topics for e in t.briefing.evidence)


def test_window_is_the_calendar_day_by_default():
    start, end = daily_window(date(2024, 11, 6), zone("UTC"))
    assert start == datetime(2024, 11, 6, tzinfo=UTC)
    assert end == datetime(2024, 11, 6, 23, 59, 59, 999999, tzinfo=UTC)


def test_window_in_another_time_zone_and_at_a_brief_time():
    start, end = daily_window(date(2024, 11, 6), zone("Europe/Kyiv"))  # UTC+2 in November
    assert (start, end.replace(microsecond=0)) == (datetime(2024, 11, 5, 22, tzinfo=UTC), datetime(2024, 11, 6, 21, 59, 59, tzinfo=UTC))
    start, end = daily_window(date(2024, 11, 6), zone("UTC"), "07:00")
    assert (start, end.replace(microsecond=0)) == (datetime(2024, 11, 5, 7, tzinfo=UTC), datetime(2024, 11, 6, 6, 59, 59, tzinfo=UTC))


def test_window_errors():
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")
    with pytest.raises(ConfigError, match="invalid daily time '25:00'"):
        daily_window(date(2024, 11, 6), zone("UTC"), "25:00")


def test_window_edges_and_undated_articles(store, fake_embedder, tmp_path):
    daily = run(store, date(2024, 11, 6), fake_embedder, tmp_path)
    times = cited_times(daily)
    # 2024-11-06T00:00 is in; 2024-11-05T23:59 and 2024-11-07T00:00 are out; the undated one too.
    assert times[0] == datetime(2024, 11, 6, tzinfo=UTC)
    assert all(datetime(2024, 11, 6, tzinfo=UTC) <= t < datetime(2024, 11, 7, tzinfo=UTC) for t in times)
    assert daily.undated_left_out == 1
    assert "1 undated articles left out" in daily_markdown(daily)


def test_topic_with_nothing_in_the_window_says_so(store, fake_embedder, tmp_path):
    daily = run(store, date(2024, 11, 6), fake_embedder, tmp_path)
    weather = next(t for t in daily.topics if t.topic.title == "Weather")
    assert weather.note == NOTHING and weather.briefing.sentences() == []
    assert f"## Weather\n\n{NOTHING}\n" in daily_markdown(daily)


def test_files_are_written_and_a_rerun_replaces_them(store, fake_embedder, tmp_path):
    tmp_path = tmp_path / "briefs"
    first = write_daily(run(store, date(2024, 11, 6), fake_embedder, tmp_path), tmp_path)
    assert [p.name for p in first] == ["2024-11-06.md", "2024-11-06.json", "2024-11-06.html", "index.html"]
    before = (tmp_path / "2024-11-06.md").read_text()
    write_daily(run(store, date(2024, 11, 6), fake_embedder, tmp_path), tmp_path)
    assert (tmp_path / "2024-11-06.md").read_text() == before
    assert json.loads((tmp_path / "2024-11-06.json").read_text())["date"] == "2024-11-06"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024-11-06.html", "2024-11-06.json", "2024-11-06.md", "index.html"]
    assert (tmp_path / "index.html").read_text().count('href="2024-11-06.html"') == 1


def test_sentences_already_reported_are_marked_and_can_be_left_out(store, fake_embedder, tmp_path):
    write_daily(run(store, date(2024, 11, 5), fake_embedder, tmp_path), tmp_path)
    second = run(store, date(2024, 11, 6), fake_embedder, tmp_path)
    assert second.previous == date(2024, 11, 5)
    marks = {s.text: s.new for t in second.topics for s in t.briefing.sentences() if s.shown}
    repeated = "The Pentagon said at least 10,000 North Korean soldiers were in Russia's Kursk region."
    assert marks[repeated] is False
    assert any(new for text, new in marks.items() if text != repeated)
    assert repeated in daily_markdown(second)
    only_new = run(store, date(2024, 11, 6), fake_embedder, tmp_path, only_new=True)
    assert repeated not in daily_markdown(only_new) and "(new)" in daily_markdown(only_new)


def test_the_first_brief_marks_everything_new(store, fake_embedder, tmp_path):
    daily = run(store, date(2024, 11, 5), fake_embedder, tmp_path)
    assert daily.previous is None
    assert all(s.new is True for t in daily.topics for s in t.briefing.sentences() if s.shown)


def test_since_and_until_override_the_date(store, fake_embedder, tmp_path):
    daily = run(store, date(2024, 11, 6), fake_embedder, tmp_path,
                since=datetime(2024, 11, 5, tzinfo=UTC), until=datetime(2024, 11, 7, 12, tzinfo=UTC))
    assert datetime(2024, 11, 5, tzinfo=UTC) in cited_times(daily)


def test_topics_file_errors(tmp_path):
    bad = tmp_path / "briefs.toml"
    bad.write_text('[[topic]]\ntitle = "No query"\n')
    with pytest.raises(InputError, match=r"briefs\.toml: topic 1: query: Field required"):
        load_topics(bad)
    bad.write_text("title = 'no tables'\n")
    with pytest.raises(InputError, match=r"no \[\[topic\]\] tables"):
        load_topics(bad)
    bad.write_text("[[topic\n")
    with pytest.raises(InputError, match="invalid TOML"):
        load_topics(bad)


def test_the_shipped_example_topics_load():
    titles = [t.title for t in load_topics(example_topics_path())]
    assert "North Korean troops in Russia" in titles and len(titles) == 3


def test_cli_daily_dry_run_writes_nothing(store, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from briefing.cli import app
    from tests.conftest import HashingEmbedder

    monkeypatch.setattr("briefing.pipeline.make_embedder", lambda *args: HashingEmbedder())
    out = tmp_path / "briefs"
    result = CliRunner().invoke(app, ["daily", "--date", "2024-11-06", "--topics", str(DAILY / "topics.toml"),
                                      "--out", str(out), "--provider", "extractive", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Daily brief · 2024-11-06") and not out.exists()
    bad = CliRunner().invoke(app, ["daily", "--date", "6 Nov", "--topics", str(DAILY / "topics.toml")])
    assert bad.stderr == "Error: invalid --date '6 Nov': use YYYY-MM-DD\n"


def test_a_topic_naming_a_publisher_the_store_lacks_is_an_error_naming_the_file(store, fake_embedder, tmp_path):
    from briefing.daily import run_daily

    topics = tmp_path / "topics.toml"
    topics.write_text('[[topic]]\ntitle = "Wire"\nquery = "troops"\npublishers = ["No Such Wire"]\n')
    with pytest.raises(InputError) as raised:
        run_daily(Components(store, provider="extractive", embedder=fake_embedder), day="2024-11-05", topics=topics,
                  out=tmp_path / "briefs")
    assert str(topics) in str(raised.value) and "topic 1: publishers: 'No Such Wire' is not a publisher in the store" in str(raised.value)


def test_a_topic_publisher_is_resolved_as_the_store_names_it():
    from briefing.daily import with_store_publishers
    from briefing.models import Topic

    topics = [Topic(title="Desk", query="troops", publishers=["pacific desk"])]
    (resolved,) = with_store_publishers(topics, ["Pacific Desk (sample)", "Harbor Ledger (sample)"], Path("topics.toml"))
    assert resolved.publishers == ["Pacific Desk (sample)"]
