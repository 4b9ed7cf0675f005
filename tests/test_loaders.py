from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from briefing.errors import InputError
from briefing.loaders import discover, load_file
from tests.conftest import FIXTURES

FORMATS = FIXTURES / "formats"
UTC = timezone.utc


def load_one(name: str):
    loaded = load_file(FORMATS / name)
    assert loaded.skipped == []
    return loaded.articles


def test_markdown_front_matter_and_body():
    (article,) = load_one("markdown.md")
    assert article.title == "Kyiv says North Korean units reached the front"
    assert article.publisher == "Test Courier (sample)"
    assert article.url == "https://test-courier.example/2024/11/05/units-front"
    assert article.published == datetime(2024, 11, 5, 12, 30, tzinfo=UTC)
    assert article.published.utcoffset() == timedelta(hours=2)
    assert "small clashes" in article.text and "**" not in article.text
    assert "[report](" not in article.text and "the report." in article.text
    assert "Ignored heading" not in article.text


def test_markdown_heading_becomes_title_without_front_matter(tmp_path):
    path = tmp_path / "story.md"
    path.write_text("# Troops reach Kursk\n\nThey arrived on Monday.\n")
    (article,) = load_file(path).articles
    assert article.title == "Troops reach Kursk"
    assert article.text.strip() == "They arrived on Monday."
    assert article.published is None


def test_plain_text_title_from_first_short_line():
    (article,) = load_one("plain.txt")
    assert article.title == "Frost warning issued for the northern valleys"
    assert article.text.startswith("Forecasters expect")
    assert article.publisher is None and article.published is None


def test_html_main_text_without_scripts_styles_navigation():
    (article,) = load_one("page.html")
    assert article.title == "EU widens sanctions over North Korean deployment"
    assert article.publisher == "Sample Gazette (sample)"
    assert article.url == "https://sample-gazette.example/2024/12/16/sanctions"
    assert article.published == datetime(2024, 12, 16, 8, 15, tzinfo=UTC)
    assert "fifteenth package of sanctions" in article.text
    assert "shadow fleet" in article.text
    for junk in ("SCRIPT-SHOULD-NOT-APPEAR", "NAVIGATION-SHOULD-NOT-APPEAR", "IFRAME-SHOULD-NOT-APPEAR",
                 "FOOTER-SHOULD-NOT-APPEAR", "font-family", "window.tracking"):  # fmt: skip
        assert junk not in article.text


def test_json_maps_common_field_names():
    first, second = load_one("items.json")
    assert first.title == "Seoul summons Russian ambassador"
    assert first.text.startswith("South Korea's foreign ministry")
    assert first.url == "https://json-wire.example/a1"
    assert first.publisher == "JSON Wire (sample)"  # from {"source": {"name": ...}}
    assert first.published == datetime(2024, 10, 22, 6, tzinfo=UTC)
    assert second.published == datetime(2024, 10, 19, tzinfo=UTC)  # bare date, taken as UTC


def test_jsonl_one_article_per_line_with_line_numbers():
    a1, a2, a3 = load_one("items.jsonl")
    assert (a1.source_id, a1.line, a1.publisher) == ("a1", 1, "Line Daily (sample)")
    assert a2.published == datetime(2024, 10, 23, 12, tzinfo=UTC)  # RFC 2822 date
    assert a2.text.startswith("US officials said up to 3,000")  # "description" field
    assert a3.line == 4 and a3.published is None  # blank line 3 is skipped silently
    assert a3.url == "https://line-daily.example/3" and a3.publisher == "Line Daily (sample)"


def test_rss_feed_entries():
    first, second = load_one("feed.rss")
    assert first.title == "Zelensky says 11,000 North Korean troops in Kursk"
    assert first.publisher == "Feedline News (sample)"
    assert first.published == datetime(2024, 11, 5, 19, tzinfo=UTC)
    assert "<b>" not in first.text and "11,000 North Korean soldiers" in first.text
    assert "He called it a new escalation." in first.text
    assert second.url == "https://feedline.example/2024/11/20/snow"


def test_atom_feed_entries():
    (entry,) = load_one("feed.atom")
    assert entry.publisher == "Atom Bulletin (sample)"
    assert entry.published == datetime(2024, 12, 19, 9, 30, tzinfo=UTC)
    assert entry.text.startswith("South Korea's intelligence service")


# --- one-line errors -------------------------------------------------------------------------


def test_unknown_format_is_a_one_line_error(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(InputError) as info:
        load_file(path)
    assert str(info.value) == f"{path}: unsupported format '.pdf' (supported: {_supported()})"


def _supported() -> str:
    return ".atom .htm .html .json .jsonl .markdown .md .ndjson .rss .text .txt .xml"


def test_unreadable_file_is_a_one_line_error(tmp_path, monkeypatch):
    path = tmp_path / "locked.md"
    path.write_text("x")
    # Tests run as root here, which reads through chmod 000, so the OS refusal is simulated.
    real_read = Path.read_bytes

    def refuse(self):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(InputError) as info:
        load_file(path)
    assert str(info.value) == f"{path}: cannot read file (Permission denied)"


def test_jsonl_line_that_is_not_an_object(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"title": "ok", "text": "Fine."}\n[1, 2, 3]\n{"title": "no body"}\n{broken\n')
    loaded = load_file(path)
    assert [a.title for a in loaded.articles] == ["ok"]
    assert [s.message() for s in loaded.skipped] == [
        f"{path}:2: expected a JSON object, got list",
        f"{path}:3: no text (expected one of: text, content, body, description)",
        f"{path}:4: invalid JSON (Expecting property name enclosed in double quotes)",
    ]


def test_article_with_no_text(tmp_path):
    path = tmp_path / "empty-body.md"
    path.write_text("---\ntitle: Only a title\n---\n\n")
    with pytest.raises(InputError) as info:
        load_file(path)
    assert str(info.value) == f"{path}: no text (expected one of: text, content, body, description)"


def test_invalid_front_matter(tmp_path):
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: [unclosed\n---\nBody.\n")
    with pytest.raises(InputError, match=r"bad\.md: invalid YAML front matter"):
        load_file(path)


def test_binary_file_named_markdown(tmp_path):
    path = tmp_path / "image.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(InputError, match="binary file, not text"):
        load_file(path)


def test_latin1_and_utf16_text(tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Zelensky met the Président in Paris.".encode("latin-1"))
    utf16 = tmp_path / "wide.txt"
    utf16.write_bytes("Kursk région update.".encode("utf-16"))
    assert load_file(latin).articles[0].text == "Zelensky met the Président in Paris."
    assert load_file(utf16).articles[0].text == "Kursk région update."


# --- discovery ---------------------------------------------------------------------------------


def test_discover_walks_folders_recursively_and_reports_the_rest(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.md").write_text("x")
    (tmp_path / "a" / "b" / "two.jsonl").write_text("x")
    (tmp_path / "a" / "README.md").write_text("about this folder")
    (tmp_path / "a" / ".hidden.md").write_text("x")
    (tmp_path / "a" / "photo.png").write_bytes(b"x")
    files, skipped = discover([tmp_path / "a", tmp_path / "missing.md"])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["a/b/two.jsonl", "a/one.md"]
    assert [s.message() for s in skipped] == [
        f"{tmp_path / 'a' / 'photo.png'}: unsupported format '.png'",
        f"{tmp_path / 'missing.md'}: no such file or folder",
    ]


def test_discover_survives_a_symlink_loop(tmp_path):
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "one.md").write_text("x")
    (tmp_path / "feeds" / "loop").symlink_to(tmp_path / "feeds")
    files, skipped = discover([tmp_path / "feeds"])
    assert [f.name for f in files] == ["one.md"]
    assert any("symlink loop" in s.reason for s in skipped)
