"""Bytes to text: BOM, then the declared charset, then UTF-8, then detection; garbled text refused.

The sample sentences are written for these tests, in several languages and legacy code pages, so
each kind is checked on more than the one field case (F01, F02) it came from.
"""

from __future__ import annotations

import codecs

import pytest

from briefing.errors import InputError
from briefing.ingest.decoding import codec_name, decode, garbled
from briefing.ingest.loaders import load_file

RUSSIAN = (
    "Паромы на озере снова ходят по расписанию. Городская служба сообщила во вторник, что все шесть "
    "переправ работают после шторма, а новые причалы откроются в декабре."
)
POLISH = "Nowy most na Wiśle będzie gotowy wiosną. Radni zagłosowali za dodatkowymi środkami."
GREEK = "Το δημοτικό συμβούλιο ενέκρινε τον προϋπολογισμό. Οι εργασίες θα ξεκινήσουν την άνοιξη."
JAPANESE = "東京都は火曜日、新しい橋の建設を始めると発表した。工事は来年の春に終わる予定だ。"
CHINESE = "市政府星期二宣布，新大桥将于明年春天建成。议员们投票支持增加资金。"


def rss(title: str, body: str, declaration: str = "") -> str:
    return (f'<?xml version="1.0"{declaration}?><rss version="2.0"><channel><title>Desk</title>'
            f"<item><title>{title}</title><description>{body}</description></item></channel></rss>")


@pytest.mark.parametrize("bom_codec", ["utf-8-sig", "utf-16", "utf-32"])
def test_a_byte_order_mark_decides(bom_codec):
    decoded = decode(RUSSIAN.encode(bom_codec), "f.txt")
    assert decoded.text == RUSSIAN and decoded.how == "bom"


@pytest.mark.parametrize(
    ("text", "codec", "declaration"),
    [
        (RUSSIAN, "cp1251", ' encoding="windows-1251"'),
        (RUSSIAN, "koi8-r", " encoding='KOI8-R'"),
        (GREEK, "iso8859-7", ' encoding="ISO-8859-7"'),
        (JAPANESE, "shift_jis", ' encoding="Shift_JIS"'),
        (CHINESE, "gb2312", ' encoding="GB2312"'),
    ],
)
def test_an_xml_declaration_decides(text, codec, declaration):
    decoded = decode(rss("x", text, declaration).encode(codec), "feed.xml", markup=True)
    assert text in decoded.text and decoded.how == "declared" and decoded.warning is None


@pytest.mark.parametrize(
    "meta",
    ['<meta charset="windows-1250">', '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2">'],
)
def test_an_html_meta_charset_decides(meta):
    page = f"<html><head>{meta}<title>Most</title></head><body><p>{POLISH}</p></body></html>"
    decoded = decode(page.encode(codec_name(meta.split("charset=")[1].strip('">'))), "page.html", markup=True)
    assert POLISH in decoded.text and decoded.how == "declared"


def test_latin_1_is_read_as_windows_1252_so_punctuation_is_never_a_c1_control():
    text = "The minister’s “plan” — costs €5m…"
    page = f'<html><head><meta charset="iso-8859-1"></head><body><p>{text}</p></body></html>'
    decoded = decode(page.encode("cp1252"), "page.html", markup=True)
    assert text in decoded.text and decoded.encoding == "cp1252"
    assert not any("\x80" <= ch <= "\x9f" for ch in decoded.text)


def test_a_wrong_declaration_gives_way_to_utf_8():
    page = f'<html><head><meta charset="iso-8859-1"></head><body><p>{POLISH}</p></body></html>'
    decoded = decode(page.encode("utf-8"), "page.html", markup=True)
    assert POLISH in decoded.text and decoded.encoding == "utf-8"


@pytest.mark.parametrize(("text", "codec"), [(RUSSIAN, "koi8-r"), (RUSSIAN, "cp1251"), (JAPANESE, "euc_jp"),
                                             (JAPANESE, "iso2022_jp"), (GREEK, "cp1253")])
def test_undeclared_legacy_text_is_detected_and_says_so(text, codec):
    decoded = decode(text.encode(codec), "note.txt")
    assert decoded.text == text and decoded.how == "detected"
    assert "by detection" in decoded.warning


def test_an_undeclared_text_that_two_code_pages_read_cleanly_is_refused():
    french = "Le conseil a voté le budget — une étape décisive, selon le maire. Les travaux commenceront à l’été."
    with pytest.raises(InputError, match=r"note\.txt: encoding could not be determined: .* save it as UTF-8"):
        decode(french.encode("cp1252"), "note.txt")


@pytest.mark.parametrize(
    "text",
    [
        "Le conseil a voté le budget Ã©tÃ© 2024, selon le maire.",  # UTF-8 read as Windows-1252, saved again
        "The minister said â€œnoâ€ to the plan on Tuesday.",
        "рБТПНЩ ОБ ПЪЕТЕ УОПЧБ ИПДСФ РП ТБУРЙУБОЙА",  # KOI8-R read as Windows-1251
        "Control\x85character in a sentence.",
    ],
)
def test_garbled_text_is_recognized(text):
    assert garbled(text) is not None


@pytest.mark.parametrize("text", [RUSSIAN, POLISH, GREEK, JAPANESE, CHINESE, "Straße, İstanbul, São Paulo, Łódź — “quoted”",
                                  "SÃO PAULO (Reuters) - Brazil's central bank held rates."])
def test_real_writing_is_not_garbled(text):
    assert garbled(text) is None


def test_mojibake_a_utf8_file_holds_itself_is_repaired_with_a_warning(tmp_path):
    path = tmp_path / "scraped.md"
    path.write_text("---\ntitle: Budget\n---\n\nLe conseil a votÃ© le budget, selon le maire. Les travaux commencent lâ€™Ã©tÃ©.\n")
    article = load_file(path).articles[0]
    assert article.text == "Le conseil a voté le budget, selon le maire. Les travaux commencent l’été."
    assert article.warnings == ["mojibake in the file itself ('Ã©' for 'é') repaired"]


def test_a_file_of_mojibake_ftfy_cannot_undo_is_skipped_naming_it(tmp_path):
    path = tmp_path / "scraped.txt"
    path.write_bytes("Budget\n\nThe council cut the budget \u009d the mayor said.\n".encode("utf-8"))
    with pytest.raises(InputError, match=r"scraped\.txt: (mojibake|control character).*; not stored"):
        load_file(path)


def test_codec_names_follow_the_web_s_supersets():
    assert codec_name("ISO-8859-1") == "cp1252" and codec_name("us-ascii") == "cp1252"
    assert codec_name("GB2312") == "gb18030" and codec_name("Shift_JIS") == "cp932"
    assert codec_name("utf-16") == "utf-8" and codec_name("no-such-charset") is None
    assert codecs.lookup(codec_name("windows-1250")).name == "cp1250"
