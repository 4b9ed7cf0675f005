import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from briefing.errors import InputError
from briefing.ingest.loaders import discover, load_file
from briefing.text import clean
from tests.conftest import FIXTURES

FORMATS = FIXTURES / "formats"
UTC = UTC


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
    assert article.published.utcoffset() == timedelta(0)  # the +02:00 of the file, stored in UTC
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
                 "FOOTER-SHOULD-NOT-APPEAR", "font-family", "window.tracking"):
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
    return ".atom .htm .html .json .jsonl .markdown .md .ndjson .rdf .rss .text .txt .xml, each also gzipped as .gz"


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


# --- real-world shapes (the kinds of field cases F03-F10, other instances) ---------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_json_feed_1_0_with_html_content_and_the_feed_title_as_publisher(tmp_path):
    feed = {
        "version": "https://jsonfeed.org/version/1", "title": "Harbour &amp; Hills",
        "items": [
            {"id": "a", "url": "https://hh.example/a", "title": "Ferry back", "date_modified": "2024-11-21T09:00:00+01:00",
             "content_html": "<p>The <b>ferry</b> resumed on Thursday.</p><style>p{}</style><script>x()</script>"},
            {"id": "b", "external_url": "https://other.example/b", "title": "Pier shut", "summary": "The pier shut for repairs.",
             "date_published": "2024-11-22T07:00:00Z"},
        ],
    }
    first, second = load_file(write(tmp_path, "feed.json", json.dumps(feed))).articles
    assert first.text == "The ferry resumed on Thursday." and first.publisher == "Harbour &amp; Hills"
    assert first.published is None and first.updated == datetime(2024, 11, 21, 8, tzinfo=UTC)
    assert second.url == "https://other.example/b" and second.text == "The pier shut for repairs."


def test_news_api_articles_are_cleaned_of_markers_entities_and_placeholders(tmp_path):
    response = {"status": "ok", "articles": [
        {"source": {"name": "Quay &amp; Co"}, "title": "Rates &quot;on hold&quot;", "publishedAt": "2024-11-05T08:00:00Z",
         "description": "The bank held rates.", "content": "The central bank kept its rate at 4.5% on Tuesday. Analysts had expect… [+2310 chars]"},
        {"source": {"name": "Paywalled"}, "title": "Budget vote", "publishedAt": "2024-11-05T09:00:00Z",
         "content": "Subscribe to continue reading. Already a subscriber? Log in."},
        {"source": {"name": "Checker"}, "title": "Just a moment...", "publishedAt": "2024-11-05T09:00:00Z",
         "content": "Checking your browser before accessing the site. Please enable JavaScript and cookies to continue."},
    ]}
    loaded = load_file(write(tmp_path, "everything.json", json.dumps(response)))
    (article,) = loaded.articles
    assert article.title == 'Rates "on hold"' and article.publisher == "Quay & Co"
    assert article.text == "The bank held rates.\n\nThe central bank kept its rate at 4.5% on Tuesday."
    assert [s.reason.split(":")[0] for s in loaded.skipped] == ["item 1", "item 2"]
    assert all("bot-check or paywall" in s.reason for s in loaded.skipped)


def test_an_article_about_captchas_is_not_a_placeholder(tmp_path):
    body = " ".join(["Researchers said the new captcha system blocked automated ticket buyers during the sale."] * 12)
    (article,) = load_file(write(tmp_path, "captcha.jsonl", json.dumps({"title": "Captcha study", "text": body}) + "\n")).articles
    assert article.title == "Captcha study"


def test_atom_text_and_html_constructs(tmp_path):
    atom = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Desk</title><id>urn:d</id><updated>2024-11-05T12:00:00Z</updated>
<entry><title type="text">Why &lt;title&gt; tags matter</title><id>urn:d:1</id><link href="https://d.example/1"/>
<published>2024-11-04T10:00:00Z</published><updated>2024-11-05T12:00:00Z</updated>
<summary type="html">&lt;p&gt;Search engines read the &lt;b&gt;title&lt;/b&gt; element first.&lt;/p&gt;</summary></entry>
<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Tide <em>tables</em> out</div></title><id>urn:d:2</id>
<link href="https://d.example/2"/><updated>2024-11-05T12:00:00Z</updated>
<content src="https://d.example/2.pdf" type="application/pdf"/><summary>High tide is at 06:40 on Friday.</summary></entry>
</feed>"""
    first, second = load_file(write(tmp_path, "feed.atom", atom)).articles
    assert first.title == "Why <title> tags matter"  # type="text" stays literal
    assert first.text == "Search engines read the title element first."
    assert first.published == datetime(2024, 11, 4, 10, tzinfo=UTC) and first.updated == datetime(2024, 11, 5, 12, tzinfo=UTC)
    assert second.title == "Tide tables out" and second.text == "High tide is at 06:40 on Friday."


def test_rss_with_an_unreadable_date_keeps_the_item_undated_with_a_warning(tmp_path):
    rss = ("<rss version='2.0'><channel><title>Notes</title><item><title>Night buses</title><link>https://n.example/1</link>"
           "<pubDate>Nov 5 at noon</pubDate><description>Night buses returned on Wednesday.</description></item>"
           "</channel></rss>")
    (item,) = load_file(write(tmp_path, "feed.rss", rss)).articles
    assert item.published is None
    assert item.warnings == ["publish date 'Nov 5 at noon' not understood (not a complete date (no year)); stored undated"]


def page(head: str, body: str) -> str:
    return f"<html><head>{head}</head><body><article>{body}</article></body></html>"


PARAGRAPHS = ("<p>The port authority said on Tuesday that dredging of the outer harbour would begin next month "
              "and last nine months.</p><p>The work will deepen the channel to 14 metres.</p>")


def test_html_publisher_from_json_ld_graph_and_published_before_modified(tmp_path):
    ld = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "name": "Port News Network"},
        {"@type": "NewsArticle", "headline": "Dredging to begin", "datePublished": "2024-03-02T06:30:00-05:00",
         "dateModified": "2024-03-04T10:00:00-05:00", "publisher": {"@type": "Organization", "name": "Estuary Post"}}]}
    head = (f'<title>Dredging to begin</title><meta property="og:site_name" content="Port">'
            f'<meta property="article:modified_time" content="2024-03-04T15:00:00Z">'
            f'<script type="application/ld+json">{json.dumps(ld)}</script>')
    (article,) = load_file(write(tmp_path, "page.html", page(head, PARAGRAPHS))).articles
    assert article.publisher == "Estuary Post"
    assert article.published == datetime(2024, 3, 2, 11, 30, tzinfo=UTC)


def test_html_without_a_date_is_kept_undated_with_a_warning_and_body_dates_are_not_guessed(tmp_path):
    body = PARAGRAPHS + "<p>The law of 14 March 2019 set the depth limit for the channel and the quays.</p>"
    (article,) = load_file(write(tmp_path, "page.html", page("<title>Dredging</title>", body))).articles
    assert article.published is None
    assert article.warnings == ["no publish date found in the page; stored undated"]


def test_html_tables_become_labelled_text_rows(tmp_path):
    table = ("<table><tr><th>city</th><th>rain</th></tr><tr><td>Lviv</td><td>41 mm</td></tr>"
             "<tr><td>Odesa</td><td>12 mm</td></tr></table>")
    (article,) = load_file(write(tmp_path, "page.html", page("<title>Rain</title>", PARAGRAPHS + table))).articles
    assert "city: Lviv; rain: 41 mm\ncity: Odesa; rain: 12 mm" in article.text
    assert "|" not in article.text


def test_html_script_shell_uses_json_ld_article_body_and_an_empty_shell_is_skipped(tmp_path):
    text = ("The ministry said on Friday that tram tenders would be reviewed by an independent panel of three judges. "
            "The panel will report by March, and no contract will be signed before then.")
    ld = json.dumps({"@type": "NewsArticle", "headline": "Tenders reviewed", "articleBody": f"<p>{text}</p>"})
    shell = page(f'<title>Tenders reviewed</title><script type="application/ld+json">{ld}</script>', '<div id="root"></div>')
    (article,) = load_file(write(tmp_path, "shell.html", shell)).articles
    assert article.text == text
    with pytest.raises(InputError, match=r"empty\.html: too little text \(\d+ words\)"):
        load_file(write(tmp_path, "empty.html", page("<title>Loading</title>", "<figcaption>Photo: Agency</figcaption>")))


def test_cjk_pages_count_characters_not_space_separated_runs(tmp_path):
    body = "<p>市交通局周二宣布，连接火车站和机场的地铁五号线将于下月十五日正式开通运营。全线长约三十二公里，共设十八座车站。</p>"
    page_html = f'<html><head><meta charset="gb2312"><title>新地铁线路下月开通</title></head><body><article>{body}</article></body></html>'
    (article,) = load_file(write_bytes(tmp_path, "page.html", page_html.encode("gb2312"))).articles
    assert article.title == "新地铁线路下月开通" and "三十二公里" in article.text


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_html_declared_times_url_and_entities(tmp_path):
    """article:published_time beats the date in the canonical URL; JSON-LD gives the update time,
    the URL when no tag does, and an articleBody whose entities are decoded."""
    body = ("Dock workers&#39; union and the port agreed a 7% pay rise on Tuesday. &quot;It&#8217;s a fair deal,&quot; "
            "the union leader said. The deal covers 2,300 workers &amp; runs for two years.")
    ld = {"@type": "NewsArticle", "url": "https://hv.example/pay-deal", "dateModified": "2024-11-12T18:00:00Z", "articleBody": body}
    head = (f'<title>Pay deal</title><meta property="article:published_time" content="2024-11-12T12:00:00Z">'
            f'<script type="application/ld+json">{json.dumps(ld)}</script>')
    (article,) = load_file(write(tmp_path, "page.html", page(head, "<p>Photo: Agency</p>"))).articles
    assert article.text.startswith("Dock workers' union") and '"It’s a fair deal,"' in article.text and "&amp;" not in article.text
    assert article.url == "https://hv.example/pay-deal"
    assert article.published == datetime(2024, 11, 12, 12, tzinfo=UTC) and article.updated == datetime(2024, 11, 12, 18, tzinfo=UTC)
    canonical = ('<title>Ferry</title><link rel="canonical" href="https://gg.example/2024/11/08/ferry">'
                 '<meta property="article:published_time" content="2024-11-09T06:30:00Z">')
    (ferry,) = load_file(write(tmp_path, "ferry.html", page(canonical, PARAGRAPHS))).articles
    assert ferry.published == datetime(2024, 11, 9, 6, 30, tzinfo=UTC) and ferry.url.endswith("/2024/11/08/ferry")


def test_ad_blocker_and_javascript_walls_are_placeholders(tmp_path):
    records = [{"title": "Tolls scrapped", "text": "Please enable JS and disable any ad blocker"},
               {"title": "Zoo pandas", "text": "Twin pandas were born at the city zoo on Thursday, a first in its history."}]
    loaded = load_file(write(tmp_path, "items.json", json.dumps(records)))
    assert [a.title for a in loaded.articles] == ["Zoo pandas"]
    assert "bot-check or paywall" in loaded.skipped[0].reason


def test_a_gzipped_file_is_read_as_its_inner_format(tmp_path):
    import gzip

    path = tmp_path / "feed.xml.gz"
    path.write_bytes(gzip.compress(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Gz (sample)</title>'
                                   b"<item><title>Packed item</title><description>A feed kept compressed is read "
                                   b"as the feed it holds.</description></item></channel></rss>"))
    loaded = load_file(path)
    assert [(a.title, a.publisher) for a in loaded.articles] == [("Packed item", "Gz (sample)")]


def test_a_byline_date_is_found_by_the_extensive_search_with_a_warning(tmp_path):
    byline = "<p>By Ana Lind | 17 April 2020</p>"  # a date htmldate finds only by its extensive search
    body = byline + PARAGRAPHS + "<p>The law of 14 March 2019 set the depth limit for the channel and the quays.</p>"
    (article,) = load_file(write(tmp_path, "page.html", page("<title>Dredging</title>", body))).articles
    assert article.published is not None and article.published.date().isoformat() == "2020-04-17"
    assert article.warnings == ["publish date 2020-04-17 found only in the page's text (htmldate's extensive search)"]


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [("Copyright (c) Harbourside Media 2015", "Harbourside Media"), ("2015", None), ("© 2016", None),
     ("Dredging to start next month", None), ("https://port.example.org", None), ("Port News Network", "Port News Network")],
)
def test_a_publisher_is_an_outlet_s_name_not_a_year_a_notice_or_the_headline(candidate, expected):
    from briefing.ingest.pages import outlet_name

    assert outlet_name(candidate, "Dredging to start next month") == expected


def test_a_page_whose_precise_extract_is_only_boilerplate_is_read_again_for_the_story(tmp_path):
    """trafilatura's precision mode can keep a comment policy and drop an oddly marked-up story;
    when what it keeps is boilerplate, the recall mode reads the page again."""
    story = "".join(f"<div>The county fire service said the barn fire on Monday destroyed hay and two tractors, item {n}.</div>"
                    for n in range(6))
    policy = ('<div class="comments"><p>Comments are welcome, but you must follow our Community Rules</p>'
              "<p>Stay on topic and be respectful. No insults, slurs, threats or personal attacks of any kind.</p></div>")
    html = f"<html><head><title>Barn fire</title></head><body><table><tr><td>{story}</td></tr></table>{policy}</body></html>"
    (article,) = load_file(write(tmp_path, "page.html", html)).articles
    assert "destroyed hay and two tractors" in article.text and "Community Rules" not in clean(article.text)


def test_a_block_that_is_not_about_the_headline_is_not_the_story(tmp_path):
    """A big newsletter box can win trafilatura's precise extract; an extract holding too few of the
    headline's words is read again favouring recall, and the promotion lines are dropped."""
    promo = ("<div class='promo'><p>Get the Valley Record delivered to your inbox every weekday at 6 a.m. Our editors "
             "pick the stories you need to start your day, from schools and sports to weather alerts and the best "
             "things to do this weekend across the valley, with dining notes and restaurant openings on Fridays.</p>"
             "<p>Signing up is free and takes less than a minute of your time, and you can leave whenever you like.</p></div>")
    story = "".join(f"<div>The Kettle Lane bridge will close for fourteen weeks of repairs, item {n}, the roads office said.</div>"
                    for n in range(5))
    html = (f"<html><head><title>Kettle Lane bridge to close for repairs</title></head><body>{promo}"
            f"<section><span>{story}</span></section></body></html>")
    (article,) = load_file(write(tmp_path, "page.html", html)).articles
    assert "fourteen weeks of repairs" in article.text and "delivered to your inbox" not in clean(article.text)


def test_a_microdata_headline_wins_over_a_site_title_and_the_declared_title_keeps_its_letters(tmp_path):
    body = '<h1 itemprop="headline">Warehouse fire burns for eleven hours</h1>' + PARAGRAPHS
    (article,) = load_file(write(tmp_path, "a.html", page("<title>Regional News Service - Latest</title>", body))).articles
    assert article.title == "Warehouse fire burns for eleven hours"
    persian = "نیروگاه خورشیدی دشت\u200cآباد افتتاح شد"
    head = f'<title>{persian}</title><meta property="og:title" content="{persian}">'
    (article,) = load_file(write(tmp_path, "b.html", page(head, PARAGRAPHS))).articles
    assert article.title == persian  # with its zero-width non-joiner


def test_a_site_wide_title_gives_way_to_the_page_s_own_headline(tmp_path):
    head = '<title>Harbour Post (sample) - Home</title><meta property="og:site_name" content="Harbour Post (sample)">'
    body = "<h1>Ferry operator orders two electric boats for the crossing</h1>" + PARAGRAPHS
    (article,) = load_file(write(tmp_path, "page.html", page(head, body))).articles
    assert article.title == "Ferry operator orders two electric boats for the crossing"


def test_a_google_reader_api_export_is_read(tmp_path):
    """Feedly, Inoreader, FreshRSS and Miniflux export streams as the Google Reader API's JSON."""
    export = {"items": [{"title": "Harbour sauna opens", "published": 1651838400000,
                         "origin": {"title": "Greywater Chronicle (sample)", "htmlUrl": "https://gc.example.com"},
                         "alternate": [{"href": "https://gc.example.com/sauna", "type": "text/html"}],
                         "summary": {"content": "<p>The wood-fired sauna on the harbour wall can take twelve bathers.</p>"}}]}
    (article,) = load_file(write(tmp_path, "export.json", json.dumps(export))).articles
    assert (article.publisher, article.url) == ("Greywater Chronicle (sample)", "https://gc.example.com/sauna")
    assert article.text == "The wood-fired sauna on the harbour wall can take twelve bathers."
    assert article.published == datetime(2022, 5, 6, 12, 0, tzinfo=UTC)
