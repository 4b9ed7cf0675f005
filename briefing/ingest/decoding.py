"""Bytes to text for every input file, in one fixed order, and a check that text is not garbled.

The order: a byte-order mark; then the charset the file declares (an XML declaration, an HTML
``<meta charset>`` or ``http-equiv`` tag); then strict UTF-8; then detection by charset-normalizer.
A step whose result does not decode strictly, or decodes into text that looks garbled, gives way
to the next. Latin-1 and ASCII labels are read as Windows-1252, as browsers do (WHATWG Encoding),
so curly quotes and dashes come out right instead of as C1 control characters.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass

from briefing.errors import InputError

# Longest BOMs first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Browsers read a declared legacy charset as its Windows superset (WHATWG Encoding Standard), so
# Latin-1 and ASCII mean windows-1252, GB2312 means GBK, and so on. Keys are Python codec names.
_SUPERSETS = {
    "ascii": "cp1252", "iso8859-1": "cp1252", "latin-1": "cp1252", "iso8859-9": "cp1254",
    "tis-620": "cp874", "iso8859-11": "cp874", "gb2312": "gb18030", "gbk": "gb18030",
    "big5": "big5hkscs", "shift_jis": "cp932", "euc_kr": "cp949",
}

_XML_DECLARATION = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_DECLARATION_BYTES = 8192  # where declarations are looked for; real pages put them in <head>

# C1 controls come from Windows-1252 read as Latin-1; C0 controls other than whitespace from
# ISO-2022 escape sequences or UTF-16 read as a single-byte code.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Mojibake is a local pattern of a few characters, all but the ASCII ones around it non-ASCII: ftfy
# needs to see only those spots, which in English text is a small part of it.
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_HALFWIDTH_KATAKANA = re.compile("[\uff61-\uff9f]")
# Encodings news files are written in, for detection to choose among: the Windows and ISO code
# pages of the WHATWG Encoding Standard, KOI8, and the CJK encodings. DOS and Mac code pages read
# almost any short Latin text "cleanly" and would make every such file a tie; Thai code pages read
# Hebrew "cleanly" too, so undeclared Thai files are refused rather than risk Hebrew read as Thai.
COMMON_ENCODINGS = [
    "utf_8", "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
    "latin_1", "iso8859_2", "iso8859_4", "iso8859_5", "iso8859_6", "iso8859_7", "iso8859_8", "iso8859_9",
    "iso8859_13", "iso8859_15", "koi8_r", "koi8_u", "cp932", "shift_jis", "euc_jp",
    "iso2022_jp", "gb18030", "gb2312", "big5", "big5hkscs", "euc_kr", "cp949",
]
_CHAOS_MARGIN = 0.03  # candidates this close to the best mess ratio count as equally clean
_COHERENCE_LEAD = 0.1  # the language-coherence lead that decides between readings in two scripts
_MESS_LIMIT = 0.1  # charset-normalizer's mess ratio at or above which text counts as garbled


@dataclass(frozen=True)
class Decoded:
    """Text decoded from a file, with the codec used and how it was chosen."""

    text: str
    encoding: str
    how: str  # "bom", "declared", "utf-8" or "detected"

    @property
    def warning(self) -> str | None:
        """A note for stderr when the encoding is a guess rather than a fact of the file."""
        if self.how == "detected":
            return f"no usable encoding declared; read as {self.encoding} by detection"
        return None


def decode(data: bytes, path: str, markup: bool = False) -> Decoded:
    """Decode ``data`` (the bytes of the file ``path``); ``markup`` looks for declared charsets.

    Raises InputError naming ``path`` for binary data, an encoding that cannot be determined, or
    text that looks garbled however it is read.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return Decoded(_strict(data, codec, path), codec.removesuffix("-sig"), "bom")
    if b"\x00" in data[:_DECLARATION_BYTES]:
        raise InputError(path, "binary file, not text")
    problems: list[str] = []
    declared = declared_charset(data) if markup else None
    if declared:
        decoded = _attempt(data, declared, "declared", problems)
        if decoded:
            return decoded
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        problems.append("not valid utf-8")
    else:
        # Valid UTF-8 is UTF-8, but for 7-bit ISO-2022 text (escape sequences): other encodings
        # almost never decode strictly as it. Mojibake inside it is the file's own, and the
        # article-level check (``garbled``) refuses it.
        if "\x1b" not in text:
            return Decoded(text, "utf-8", "utf-8")
        problems.append("escape sequences (ISO-2022)")
    return _detect(data, path, problems)


def declared_charset(data: bytes) -> str | None:
    """The charset an XML declaration or an HTML meta tag names, as a Python codec name."""
    head = data[:_DECLARATION_BYTES]
    match = _XML_DECLARATION.match(head) or _META_CHARSET.search(head)
    return codec_name(match.group(1).decode("ascii")) if match else None


def codec_name(label: str) -> str | None:
    """The codec to read a charset label with (its Windows superset, if any); None if unknown."""
    try:
        name = codecs.lookup(label.strip()).name
    except LookupError:
        return None
    if name.startswith(("utf-16", "utf-32")):
        return "utf-8"  # a declaration readable as ASCII is not in UTF-16 (WHATWG reads it as UTF-8)
    return _SUPERSETS.get(name, name)


def mojibake(text: str) -> str | None:
    """Why ``text`` shows the marks of a wrong decoding, or None. Cheap enough for whole files.

    Two marks: control characters other than whitespace (Windows-1252 punctuation read as Latin-1
    leaves C1 controls) and the patterns of UTF-8 read as a legacy code page that ftfy knows
    ("CafÃ©", "â€™").
    """
    from ftfy.badness import is_bad

    if match := _CONTROLS.search(text):
        return f"control character U+{ord(match.group()):04X}"
    spots = " ".join(text[max(0, m.start() - 3) : m.end() + 3] for m in _NON_ASCII.finditer(text))
    if spots and is_bad(spots):
        return "mojibake such as 'Ã©' (UTF-8 read as a legacy code page)"
    return None


def garbled(text: str, unicode_source: bool = False) -> str | None:
    """Why article text looks garbled, or None when it looks like real writing.

    ``mojibake`` plus charset-normalizer's mess ratio, which sees letters of unrelated scripts and
    cases mixed in words (KOI8-R read as Windows-1251: "рБТПНЩ ОБ ПЪЕТЕ"), and runs of half-width
    katakana, which modern text hardly uses. Those two are marks of a code page guessed wrong, so
    they are not looked for in text from a Unicode source (``unicode_source``: valid UTF-8, or a
    BOM): there no code page was guessed, and mixed scripts (Chinese with Latin names, Japanese
    with half-width forms) are the writer's own. Meant for extracted text, not raw markup.
    """
    from charset_normalizer.md import mess_ratio

    if reason := mojibake(text):
        return reason
    if unicode_source:
        return None
    if _HALFWIDTH_KATAKANA.search(text) and len(_HALFWIDTH_KATAKANA.findall(text)) > 3:
        return "half-width katakana (a single-byte code page read as Shift_JIS)"
    if not text.isascii() and mess_ratio(text, _MESS_LIMIT) >= _MESS_LIMIT:
        return "letters of mixed scripts or cases in words (text read with the wrong code page)"
    return None


UNICODE_CODECS = ("utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")


def repaired(text: str) -> str | None:
    """``text`` with mojibake undone by ftfy (a page whose own bytes hold "CafÃ©" for "Café"),
    or None when ftfy cannot make it clean."""
    from ftfy import fix_encoding

    fixed = fix_encoding(text)
    return fixed if fixed != text and mojibake(fixed) is None else None


def _attempt(data: bytes, codec: str, how: str, problems: list[str]) -> Decoded | None:
    try:
        text = data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        problems.append(f"not valid {codec}")
        return None
    reason = mojibake(text)
    if reason:
        problems.append(f"as {codec}: {reason}")
        return None
    return Decoded(text, codec, how)


def _detect(data: bytes, path: str, problems: list[str]) -> Decoded:
    """The encoding charset-normalizer finds, when no other encoding reads the bytes as well.

    Short legacy-encoded texts often read equally cleanly in two code pages (French in
    windows-1252 or windows-1250: "à" or "ŕ"). Candidates within ``_CHAOS_MARGIN`` of the best mess
    ratio that decode to different text are a tie. A reading that puts fewer letters outside the
    text's main script wins it ("€5m", not "Ђ5m", in English); between readings in different
    scripts (Hebrew or Cyrillic letters), a clear lead in charset-normalizer's language coherence
    does. Otherwise the encoding counts as undetermined and the file is refused. Coherence never
    decides between readings in one script: one letter, "Zoë" or "Zoė", moved it by 0.12.
    """
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data, cp_isolation=COMMON_ENCODINGS))
    tried = f" (tried: {'; '.join(problems)})" if problems else ""
    if not matches:
        raise InputError(path, f"encoding could not be determined{tried}; save it as UTF-8")
    close = [m for m in matches if m.chaos <= matches[0].chaos + _CHAOS_MARGIN]
    readings = {str(m): m for m in close}
    best = _break_tie(readings) if len(readings) > 1 else matches[0]
    if best is None:
        first, second = list(readings.values())[:2]
        raise InputError(
            path, f"encoding could not be determined: {first.encoding} and {second.encoding} both read it "
            f"cleanly, with different letters{tried}; save it as UTF-8 or declare its charset",
        )
    codec = codec_name(best.encoding) or best.encoding
    decoded = _attempt(data, codec, "detected", problems)
    if decoded is None:
        raise InputError(path, f"text looks garbled in every encoding tried (tried: {'; '.join(problems)}); save it as UTF-8")
    return decoded


def _break_tie(readings: dict):
    """The one reading of equally clean ones that is plausibly right, or None."""
    mixes = {text: _letters_off_script(text) for text in readings}
    fewest = min(mixes.values())
    left = sorted((readings[text] for text, mix in mixes.items() if mix == fewest), key=lambda m: -m.coherence)
    if len(left) == 1:
        return left[0]
    first, second = left[0], left[1]
    if _main_script(str(first)) != _main_script(str(second)) and first.coherence - second.coherence >= _COHERENCE_LEAD:
        return first
    return None


def _scripts(text: str) -> Counter:
    """Letters per script, non-ASCII letters only (markup and Latin names around them aside);
    Japanese kana count as CJK."""
    import unicodedata

    scripts: Counter = Counter()
    for char in text:
        if char.isalpha() and not char.isascii():
            script = unicodedata.name(char, "UNKNOWN").split()[0]
            scripts["CJK" if script in ("HIRAGANA", "KATAKANA") else script] += 1
    return scripts


def _main_script(text: str) -> str | None:
    scripts = _scripts(text)
    return scripts.most_common(1)[0][0] if scripts else None


def _letters_off_script(text: str) -> int:
    """How many letters are not in the text's most common script (ASCII letters count as Latin)."""
    scripts = _scripts(text)
    scripts["LATIN"] += sum(char.isascii() and char.isalpha() for char in text)
    return sum(scripts.values()) - max(scripts.values(), default=0)


def _strict(data: bytes, codec: str, path: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not valid {codec.removesuffix('-sig')} despite its byte-order mark ({exc.reason})") from None
