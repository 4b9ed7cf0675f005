"""A question, read once: what it asks for, the names and roles it is about, whose statement or
figure it means, the time it names, its parts and its language.

``read_question`` is the one place a question's text is parsed; retrieval, the answer picker,
the abstention checks and the output all take the ``Question`` it returns. The words it reads by
live in ``lexicon/questions.toml`` (what each opener asks for, the words that ask for the latest
report, unit families, function words per language); roles, targets and counted things come from
``focus.question_focus``.

    >>> q = read_question("How many drones did the navy launch on March 3, and who shot them down?",
    ...                   reference=datetime(2025, 3, 20, tzinfo=UTC))
    >>> q.asks, [p.asks for p in q.parts], q.time.since.date().isoformat()
    ('figure', ['figure', 'person'], '2025-03-03')
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import regex

from briefing import lexicon
from briefing.answer.focus import ROLES, Focus, question_focus
from briefing.models import QuestionReading, RetrievalFilter
from briefing.terms import STOPWORDS, Token, asked_names, content_terms, question_names, tokens, words

ASKS = ("figure", "money", "age", "date", "person", "place", "reason", "statement", "event", "yes-no", "thing")
"""What a question may ask for, in the words of ``questions.toml``."""


table = lexicon.questions


@functools.cache
def _wh_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(row["pattern"], re.I), row["asks"]) for row in table()["wh"])


def _alternatives(entries: list[str]) -> str:
    return "|".join(re.escape(e) for e in sorted(entries, key=len, reverse=True))


@functools.cache
def _latest_pattern() -> re.Pattern[str]:
    return re.compile(rf"\b({_alternatives(table()['latest'])})\b", re.I)


@dataclass(frozen=True)
class AskedTime:
    """The time a question names: ``latest`` ("the latest figure", "now"), or a window read from
    its words (``phrase``: "on December 20") as aware datetimes, ``until`` inclusive. What happened
    on a day or in a month is reported after it too: the window reaches ``[answers]
    report_lag_day`` days past a day and ``report_lag_month`` days past a month."""

    latest: bool = False
    since: datetime | None = None
    until: datetime | None = None
    phrase: str = ""
    months: tuple[int, ...] = ()  # the months the words name ("in October": 10), when they name a day or month
    named_until: datetime | None = None  # the end of the day or month the words name, before the reporting lag

    @property
    def window(self) -> bool:
        return self.since is not None or self.until is not None


@dataclass(frozen=True)
class Question:
    """A question as read once (see the module docstring).

    ``asks`` is one of ``ASKS``; ``names`` are the name groups it is about (English questions);
    ``owner`` is whose statement or figure is meant ("the ministry's estimate", "What did Ruiz
    say", "according to UK defence chief Ana Ruiz"), empty when none, ``owners`` the names
    that may stand for it ("UK", "Ana Ruiz") and ``owner_role`` the role it names, which an
    answer must state ("mayor" of "the mayor of Arlen"); ``agent`` the name terms that
    do what its ``verb`` (a term) says ("did Chile return": ("chile",), "return"); ``parts``
    holds the sub-questions of a question that asks two things (empty otherwise); ``context`` the
    content terms of the whole question, which a part leans on ("...and who shot them down?");
    ``language`` a code of ``questions.toml [languages]`` or ""."""

    text: str
    asks: str
    focus: Focus
    opener: str = ""
    names: tuple[tuple[Token, ...], ...] = ()
    owner: str = ""
    owners: tuple[str, ...] = ()
    owner_role: str = ""
    agent: tuple[str, ...] = ()
    verb: str = ""
    time: AskedTime = field(default_factory=AskedTime)
    parts: tuple[Question, ...] = ()
    context: frozenset[str] = frozenset()
    language: str = ""

    @property
    def terms(self) -> frozenset[str]:
        """The content terms of the question, without those of its opener ("how old", "what
        percentage") and its time phrase."""
        text = self.text.replace(self.time.phrase, " ") if self.time.phrase else self.text
        text = text.replace(self.opener, " ", 1) if self.opener else text
        return content_terms(_latest_pattern().sub(" ", text) if self.time.latest else text)

    def asked(self) -> list[Question]:
        """The questions an answer must answer: its parts, or itself."""
        return list(self.parts) or [self]

    def reading(self, applied: bool) -> QuestionReading:
        """What the tool read, as saved with the answer; ``applied``: its window was used."""
        window = RetrievalFilter(since=self.time.since, until=self.time.until) if self.time.window else None
        return QuestionReading(
            asks=self.asks, names=[" ".join(map(shown_word, g)) for g in self.names], owner=self.owner or None,
            latest=self.time.latest, window=window, window_phrase=self.time.phrase or None,
            window_applied=applied and window is not None, parts=[p.text for p in self.parts], language=self.language or None,
        )


def shown_word(token: Token) -> str:
    """A token as a reader wrote it: a state's several words ("north_korea") by the state's name."""
    if "_" not in token.word:
        return token.word
    return next((c.name for c in lexicon.countries() if c.term == token.term), token.word.replace("_", " "))


def read_question(text: str, *, reference: datetime | None = None, timezone: str = "UTC",
                  now: datetime | None = None) -> Question:
    """Read ``text`` once. ``reference`` is the newest report the store holds: a date without a year
    ("December 20") is its latest occurrence up to then, and "yesterday" or "last week" count back
    from it too (from ``now``, default the clock, when that is earlier): a store not pulled for a
    while still answers "last week" from its last week. ``timezone`` (an IANA name) is the zone
    whose days a window covers."""
    text = " ".join(text.split())
    zone = ZoneInfo(timezone)
    now = now or datetime.now(UTC)
    asked_time = read_time(text, reference=reference or now, zone=zone, now=now)
    whole = _clause(text, asked_time)
    pieces = split_parts(text)
    if len(pieces) > 1:
        parts = tuple(_part(piece, whole, asked_time) for piece in pieces)
        return replace(whole, parts=parts)
    return whole


def _clause(text: str, asked_time: AskedTime, context: frozenset[str] = frozenset()) -> Question:
    focus = question_focus(text)
    names = tuple(tuple(g) for g in _split_possessives(asked_names(text)) if not _in_phrase(g, asked_time.phrase))
    owner = _owner(text, focus)
    asks, opener = _asks(text, focus)
    return Question(text=text, asks=asks, opener=opener, focus=focus, names=names, owner=owner, owners=_owners(owner),
                    owner_role=next((w for w in words(owner) if w.casefold() in ROLES), ""), **_agent(text),
                    time=asked_time, context=context or content_terms(text), language=question_language(text))


def _part(piece: str, whole: Question, asked_time: AskedTime) -> Question:
    """A part of a two-part question; what it counts, when it leaves that out ("...and how many were
    shot down?"), is the whole question's."""
    part = _clause(piece, asked_time, whole.context)
    if part.asks in ("figure", "money") and not part.focus.counted and whole.focus.counted:
        part = replace(part, focus=replace(part.focus, counted=whole.focus.counted, counted_head=whole.focus.counted_head))
    return part


def _in_phrase(group: list[Token], phrase: str) -> bool:
    return bool(phrase) and all(t.word in phrase for t in group)


def _asks(text: str, focus: Focus) -> tuple[str, str]:
    """What ``text`` asks for, and the words that say so: the first ``questions.toml [[wh]]``
    pattern matching a clause start ("thing" and "" when none does)."""
    for start in _clause_starts(text):
        for pattern, asks in _wh_patterns():
            if match := pattern.match(text, start):
                opener = match.group(0) if asks in ("figure", "age") else ""  # "how old" is no content of the question
                return ("money" if asks == "figure" and focus.wants_money else asks), opener
    return "thing", ""


def _clause_starts(text: str) -> list[int]:
    """Where the question word may be: the start, or after a leading phrase ("In Arlen, how many...",
    "According to Lima, how many...")."""
    starts = [0]
    starts += [m.end() for m in re.finditer(r"[,:;]\s*", text)]
    starts += [m.start() for m in re.finditer(r"\b(how|what|which|who|whom|whose|when|where|why)\b", text, re.I)]
    return sorted(set(starts))


_POSSESSIVE = regex.compile(r"\b(\p{Lu}[\p{L}\p{M}.-]*(?:\s+\p{Lu}[\p{L}\p{M}.-]*)*)['’]s?\s+(?!s\b)(\p{Ll}+)")
_ACCORDING = regex.compile(r"\b(?:according to|in the view of|in the words of)\s+(?:the\s+)?([^,;?]+)")
_SAYS = regex.compile(r"\bdoes\s+(?:the\s+)?(\p{Lu}[\p{L}\p{M}.-]*(?:\s+\p{Lu}[\p{L}\p{M}.-]*)*)"
                      r"\s+(?:say|estimate|claim|put|give|report)\b")


_AUXILIARY = re.compile(r"\b(did|does|do|has|have|had|is|are|was|were|will|would|could|can)\s+(?:the\s+)?", re.I)


def _agent(text: str) -> dict[str, Any]:
    """Who does what in "...did Chile return...", "...is Peru paying...": the names right
    after the auxiliary and the lower-case verb right after them; empty when the question has none."""
    for match in _AUXILIARY.finditer(text):
        found = tokens(text[match.end() :])
        names = []
        for token in found:
            if token.entity:
                names.append(token)
                continue
            break
        following = found[len(names)] if len(names) < len(found) else None
        progressive = match.group(1).casefold() in ("is", "are", "was", "were")
        if not names or following is None or not following.word.islower() or following.term in STOPWORDS:
            continue
        if progressive and not following.word.endswith("ing"):
            continue  # "were Sopov and Rau arrested" is passive: its names do not act
        return {"agent": tuple(t.term for t in names if not t.word.endswith(("'s", "’s"))), "verb": following.term}
    return {}


def _split_possessives(groups: list[list[Token]]) -> list[list[Token]]:
    """Name runs split after a possessive: "Chile's Belmont region" names Chile and Belmont."""
    out: list[list[Token]] = []
    for group in groups:
        current: list[Token] = []
        for token in group:
            current.append(token)
            if token.word.endswith(("'s", "’s", "'", "’")):
                out.append(current)
                current = []
        if current:
            out.append(current)
    return out


def _owners(owner: str) -> tuple[str, ...]:
    """The names that stand for ``owner``: each name run in it ("UK defence chief Ana Ruiz" ->
    "UK", "Ana Ruiz"); none for a description ("the first estimates", "the mayor")."""
    return tuple(" ".join(t.word for t in g) for g in question_names(owner))


def _owner(text: str, focus: Focus) -> str:
    """Whose statement or figure the question means: the speaker of "What did X say", X in "X's
    estimate", "according to X" or "does X estimate"; "" when none."""
    if focus.speaker:
        return focus.speaker
    for pattern in (_ACCORDING, _SAYS):
        match = pattern.search(text)
        if match:
            return match.group(1)
    match = _POSSESSIVE.search(text)
    if match and match.group(2).casefold() in _OWNED:
        return match.group(1)
    return ""


_OWNED = frozenset("""estimate estimates figure figures count tally assessment claim claims statement statements
call calls demand demands proposal plan offer warning threat response view position account version
numbers data forecast prediction""".split())
"""Nouns whose owner is the source of what is asked ("the ministry's estimate"), not its subject."""


# --- parts -----------------------------------------------------------------------------------


@functools.cache
def _part_split() -> re.Pattern[str]:
    openers = _alternatives(table()["part_openers"])
    return re.compile(rf"(?:,?\s+(?:and|but)\s+|;\s*|\?\s+)(?=(?:{openers})\b)", re.I)


def split_parts(text: str) -> list[str]:
    """The sub-questions of a question that asks two (or more) things: split at "and"/"but", ";" or
    a question mark followed by a question word or auxiliary, where each side has two or more content
    words ("How many were killed and who was responsible?"), or a bare question word after the first
    ("How many drones were downed, and when?"). One piece when it asks one thing."""
    pieces = [p.strip(" ,;") for p in _part_split().split(text) if p.strip(" ,;?")]
    if len(pieces) < 2 or not all(_whole_part(p) or (i and _BARE_WH.fullmatch(p.rstrip("?"))) for i, p in enumerate(pieces)):
        return [text]
    return [p if p.endswith("?") else p + "?" for p in pieces]


def _whole_part(piece: str) -> bool:
    return len(content_terms(piece)) >= 1 and len(words(piece)) >= 3


_BARE_WH = re.compile(r"(when|where|why|who|how|by whom|since when)", re.I)  # "..., and when?"


# --- time ------------------------------------------------------------------------------------


@functools.cache
def _month_numbers() -> dict[str, int]:
    return {name: number for number, names in enumerate(lexicon.english()["dates"]["months"], start=1) for name in names}


@functools.cache
def _date_patterns() -> tuple[Any, re.Pattern[str], re.Pattern[str]]:
    months = _alternatives(list(_month_numbers()))
    day = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
    year = r"(?:,?\s+(?P<year>(?:19|20)\d\d))?"
    month = rf"(?P<month>{months})\.?"
    specific = regex.compile(rf"\b(?P<prep>on|since|before|after|until|till|by|from)?\s*(?:the\s+)?"
                          rf"(?:{month}\s+{day}\b{year}|{day}\s+(?:of\s+)?{month}{year}\b|(?P<iso>\d{{4}}-\d\d-\d\d))", regex.I)
    whole_month = re.compile(rf"\b(?P<prep>in|during|since|before|after|until|by|throughout)\s+(?:early\s+|late\s+|mid-?)?"
                             rf"(?P<month>{months})\b\.?(?:\s+(?P<year>(?:19|20)\d\d))?(?!\s*[0-3]?\d)", re.I)
    relative = re.compile(r"\b(?P<what>yesterday|today|this week|last week|past week|this month|last month|past month"
                          r"|(?:in the |over the )?(?:past|last) (?P<n>\d+|two|three|four|five|six|seven|ten) (?P<unit>days|weeks))\b",
                          re.I)
    return specific, whole_month, relative


_SMALL = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10}


def read_time(text: str, *, reference: datetime, zone: ZoneInfo, now: datetime) -> AskedTime:
    """The time ``text`` names (see ``AskedTime``); days are whole days in ``zone``."""
    latest = bool(_latest_pattern().search(text))
    specific, whole_month, relative = _date_patterns()
    local_reference = reference.astimezone(zone).date()
    if match := specific.search(text):
        day = _day_of(match, local_reference)
        if day is not None:
            since, until = _bounds(match.group("prep"), day, day, zone, _lag("report_lag_day"))
            return AskedTime(latest=latest, since=since, until=until, phrase=match.group(0).strip(), months=(day.month,),
                             named_until=_bounds(match.group("prep"), day, day, zone)[1])
    if match := whole_month.search(text):
        first = _month_of(match, local_reference)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        since, until = _bounds(match.group("prep"), first, last, zone, _lag("report_lag_month"))
        return AskedTime(latest=latest, since=since, until=until, phrase=match.group(0).strip(), months=(first.month,),
                         named_until=_bounds(match.group("prep"), first, last, zone)[1])
    if match := relative.search(text):
        first, last = _relative_days(match, min(now, reference).astimezone(zone).date())
        since, until = _bounds("in", first, last, zone)
        return AskedTime(latest=latest, since=since, until=until, phrase=match.group(0).strip())
    return AskedTime(latest=latest)


def _day_of(match: Any, reference: date) -> date | None:
    if match.group("iso"):
        try:
            return date.fromisoformat(match.group("iso"))
        except ValueError:
            return None
    month = _month_numbers()[match.group("month").casefold().rstrip(".")]
    day = int(match.group("day"))
    year = int(match.group("year")) if match.group("year") else None
    for candidate_year in ([year] if year else [reference.year, reference.year - 1]):
        try:
            found = date(candidate_year, month, day)
        except ValueError:
            return None
        if year or found <= reference:
            return found
    return None


def _month_of(match: re.Match[str], reference: date) -> date:
    month = _month_numbers()[match.group("month").casefold().rstrip(".")]
    if match.group("year"):
        return date(int(match.group("year")), month, 1)
    year = reference.year if month <= reference.month else reference.year - 1
    return date(year, month, 1)


def _relative_days(match: re.Match[str], today: date) -> tuple[date, date]:
    what = match.group("what").casefold()
    monday = today - timedelta(days=today.weekday())
    if what == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if what == "today":
        return today, today
    if what == "this week":
        return monday, today
    if what == "last week":
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if what == "this month":
        return today.replace(day=1), today
    if what == "last month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if what in ("past week",):
        return today - timedelta(days=7), today
    if what == "past month":
        return today - timedelta(days=30), today
    count = int(match.group("n")) if match.group("n").isdigit() else _SMALL[match.group("n").casefold()]
    days = count * (7 if match.group("unit").casefold() == "weeks" else 1)
    return today - timedelta(days=days), today


def _lag(name: str) -> timedelta:
    return timedelta(days=lexicon.threshold("answers", name))


def _bounds(preposition: str | None, first: date, last: date, zone: ZoneInfo,
            lag: timedelta = timedelta(0)) -> tuple[datetime | None, datetime | None]:
    """The window a preposition makes of the days ``first``..``last``: "on"/"in" covers them and
    the ``lag`` after (reports of what happened), "since"/"from"/"after" starts there (after: the
    next day), "before" ends the day before, "until"/"by" ends with them."""
    start = datetime.combine(first, time.min, zone)
    end = datetime.combine(last, time.max, zone)
    word = (preposition or "on").casefold()
    if word in ("since", "from"):
        return start, None
    if word == "after":
        return end + timedelta(microseconds=1), None
    if word == "before":
        return None, start - timedelta(microseconds=1)
    if word in ("until", "till", "by"):
        return None, end
    return start, end + lag


# --- language --------------------------------------------------------------------------------


_SCRIPTS = (("ru", regex.compile(r"\p{Cyrillic}")), ("zh", regex.compile(r"\p{Han}")), ("el", regex.compile(r"\p{Greek}")),
            ("ar", regex.compile(r"\p{Arabic}")), ("he", regex.compile(r"\p{Hebrew}")))
_UKRAINIAN = regex.compile(r"[іїєґІЇЄҐ]")


def question_language(text: str) -> str:
    """The language of ``text`` by its script, then by the function words of ``questions.toml
    [languages]`` it holds; "" when no language has two or more of them (or a share ahead)."""
    for code, pattern in _SCRIPTS:
        if len(pattern.findall(text)) >= 3:
            if code == "ru":
                return "uk" if _UKRAINIAN.search(text) else _by_function_words(text, ("ru", "uk")) or "ru"
            return code
    return _by_function_words(text)


def _by_function_words(text: str, among: tuple[str, ...] | None = None) -> str:
    found = [w.casefold() for w in words(text)]
    if not found:
        return ""
    counts = {code: sum(w in set(entries) for w in found) for code, entries in table()["languages"].items()
              if among is None or code in among}
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    best, count = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    return best if count >= 2 and count > runner_up else ""


def text_language(texts: list[str]) -> str:
    """The language most of ``texts`` are in (``question_language`` of each), "" when unclear."""
    votes: dict[str, int] = {}
    for text in texts:
        code = question_language(text)
        if code:
            votes[code] = votes.get(code, 0) + 1
    if not votes:
        return ""
    best = max(votes, key=lambda k: votes[k])
    return best if votes[best] >= 0.6 * sum(votes.values()) else ""
