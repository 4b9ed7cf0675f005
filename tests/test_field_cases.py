"""The field cases F01–F13 (real-world inputs of ingest, copied from ../shared/field-cases/): each
test ingests one case folder and asserts the right value its `.case.json` gives.

Ingest-only cases use the hashing embedder (the vectors play no part in what is asserted); the two
cases whose right value is an answer use the real packaged embedder, whose similarities decide
abstention.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefing.brief import answer_question
from briefing.cli import app
from briefing.ingest import ingest
from briefing.models import ABSTAIN, ArticleInfo, IngestReport
from briefing.render import to_markdown
from briefing.settings import Settings
from briefing.store import open_catalog
from tests.conftest import FIXTURES, HashingEmbedder

CASES = FIXTURES / "field-cases"


def case(name: str) -> dict:
    return json.loads((CASES / name / ".case.json").read_text())


def ingest_case(name: str, tmp_path: Path, embedder=None) -> tuple[IngestReport, list[ArticleInfo], dict[str, str]]:
    """Ingest a copy of the case folder; returns the report, `briefing sources` and each article's text."""
    folder = tmp_path / name
    shutil.copytree(CASES / name, folder)
    report = ingest([folder], Settings(), embedder=embedder or HashingEmbedder())
    catalog = open_catalog(Settings())
    articles = catalog.list_articles()
    texts = dict(catalog.db.execute("SELECT id, text FROM articles WHERE superseded_by IS NULL"))
    catalog.close()
    return report, articles, {a.title: texts[a.id] for a in articles}


def instant(value: str) -> datetime:
    """The timestamp at the start of a `.case.json` value ("2020-01-14 (or undated...)")."""
    stamp = re.match(r"[0-9T:Z-]+", value).group(0)
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).replace(tzinfo=timezone.utc)


def answer_text(question: str, embedder) -> str:
    answer = answer_question(question, Settings(), provider="extractive", embedder=embedder)
    return to_markdown(answer)


def question_of(name: str) -> str:
    return re.search(r'ask "([^"]+)"', case(name)["run"]).group(1)


def test_f01_koi8r_feed_without_declaration_is_read_as_koi8r(tmp_path):
    expect = case("F01-koi8r-feed-no-declaration")["expect"]
    report, articles, texts = ingest_case("F01-koi8r-feed-no-declaration", tmp_path)
    assert [a.title for a in articles] == [expect["title"]]
    assert expect["text_contains"] in texts[expect["title"]]
    assert any("koi8-r by detection" in w.text for w in report.warnings)  # a guess is said on stderr


def test_f02_declared_windows_1250_is_decoded_as_declared(tmp_path):
    expect = case("F02-cp1250-html-meta-charset")["expect"]
    _, articles, texts = ingest_case("F02-cp1250-html-meta-charset", tmp_path)
    assert [a.title for a in articles] == [expect["title"]]
    assert expect["text_contains"] in texts[expect["title"]]
    assert articles[0].published == instant(expect["published"])


def test_f03_non_iso_time_tag_is_parsed_and_never_drops_the_article(tmp_path):
    expect = case("F03-time-tag-ddmmyyyy")["expect"]
    report, articles, _ = ingest_case("F03-time-tag-ddmmyyyy", tmp_path)
    assert len(articles) == expect["articles"] and not report.skipped
    assert articles[0].published == instant(expect["published"])


def test_f04_published_time_and_json_ld_publisher_win(tmp_path):
    expect = case("F04-published-vs-modified")["expect"]
    _, articles, _ = ingest_case("F04-published-vs-modified", tmp_path)
    assert articles[0].published == instant(expect["published"])
    assert articles[0].publisher == expect["publisher"]


@pytest.mark.slow
def test_f05_a_figure_in_a_table_answers_the_question(tmp_path, real_embedder):
    name = "F05-table-figures"
    expect = case(name)["expect"]
    ingest_case(name, tmp_path, real_embedder)
    text = answer_text(question_of(name), real_embedder)
    assert expect["answer_contains"] in text
    assert expect["never"] not in text


def test_f06_caption_only_page_takes_its_json_ld_article_body(tmp_path):
    expect = case("F06-caption-only-body-in-jsonld")["expect"]
    _, articles, texts = ingest_case("F06-caption-only-body-in-jsonld", tmp_path)
    (text,) = texts.values()
    assert expect["text_contains"] in text
    assert "Photo: Agency" not in text  # never the caption as the article


def test_f06_caption_only_page_without_json_ld_is_skipped_as_too_little_text(tmp_path):
    page = (CASES / "F06-caption-only-body-in-jsonld" / "page.html").read_text()
    folder = tmp_path / "caption"
    folder.mkdir()
    (folder / "page.html").write_text(re.sub(r"<script.*?</script>", "", page, flags=re.DOTALL))
    result = CliRunner().invoke(app, ["ingest", str(folder), "--json"], catch_exceptions=False)
    skipped = json.loads(result.stdout)["skipped"]
    assert len(skipped) == 1 and "too little text" in skipped[0]["reason"] and "page.html" in skipped[0]["path"]
    assert "skipped" in result.stderr and "page.html" in result.stderr


def test_f07_json_feed_items_with_text_or_html_content(tmp_path):
    expect = case("F07-json-feed")["expect"]
    _, articles, texts = ingest_case("F07-json-feed", tmp_path)
    assert len(articles) == expect["articles"]
    assert {a.publisher for a in articles} == {expect["publisher"]}
    stored = " ".join(texts.values())
    assert all(phrase in stored for phrase in expect["text_contains"])
    assert "track()" not in stored  # never script text


def test_f08_news_api_response_without_markers_entities_or_bot_check_page(tmp_path):
    expect = case("F08-news-api-response")["expect"]
    report, articles, texts = ingest_case("F08-news-api-response", tmp_path)
    assert len(articles) == expect["articles"]
    stocks = next(a for a in articles if a.publisher == expect["publisher"])
    assert stocks.published == instant(expect["published"])
    stored = " ".join(list(texts.values()) + [a.title for a in articles])
    assert expect["text_contains"] in stored
    assert not any(marker in stored for marker in expect["never"][:2])
    assert "Wire Finance" not in {a.publisher for a in articles}  # the not-a-robot page
    assert any("bot-check" in s.reason for s in report.skipped)


def test_f09_atom_content_elsewhere_uses_the_summary(tmp_path):
    expect = case("F09-atom-content-src-with-summary")["expect"]
    _, articles, texts = ingest_case("F09-atom-content-src-with-summary", tmp_path)
    assert len(articles) == expect["articles"]
    assert expect["text_contains"] in " ".join(texts.values())
    assert articles[0].published is not None  # an entry with only <updated> is dated by it


def test_f10_html_typed_atom_title_becomes_plain_text(tmp_path):
    expect = case("F10-atom-html-title")["expect"]
    _, articles, _ = ingest_case("F10-atom-html-title", tmp_path)
    assert [a.title for a in articles] == [expect["title"]]
    assert articles[0].publisher == "ARTS & CULTURE"


def test_f11_items_sharing_only_a_placeholder_body_stay_apart(tmp_path):
    _, articles, texts = ingest_case("F11-distinct-items-same-body", tmp_path)
    assert len(articles) == 3 and all(a.alternates == 0 for a in articles)
    assert all(texts[a.title] == a.title for a in articles)  # each is its headline


@pytest.mark.slow
def test_f12_a_later_version_at_the_same_url_is_what_answers(tmp_path, real_embedder):
    name = "F12-updated-story"
    expect = case(name)["expect"]
    report, articles, _ = ingest_case(name, tmp_path, real_embedder)
    assert report.updates == 1 and len(articles) == 1
    assert [v.title for v in articles[0].earlier_versions] == ["Earthquake strikes Serravalle valley, killing at least 8"]
    text = answer_text(question_of(name), real_embedder)
    assert expect["answer_contains"] in text and ABSTAIN not in text
    assert "at least 8 " not in text


def test_f13_non_standard_feed_date_is_read_not_filled_in_from_today(tmp_path):
    expect = case("F13-nonstandard-feed-date")["expect"]
    _, articles, _ = ingest_case("F13-nonstandard-feed-date", tmp_path)
    assert articles[0].published == instant(expect["published"])
