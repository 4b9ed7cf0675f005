"""Focus: the roles, target and counted thing of a question, read by ``question.read_question``.

- the roles in it, with their modifiers ("the health minister", "the mayor", "the Pope");
- the thing a "which"/"what" question asks for ("which football club", "what peace plan");
- what "how many" counts, and whether "how much" asks for money;
- the speaker of "What did X say".

``answers`` checks a sentence against them (``answers_target``, ``counts_asked``). Roles and targets
are read from English questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from briefing import lexicon
from briefing.terms import STOPWORDS, Token, content_terms, matches, numbers, question_names, tokens

ROLES = frozenset(
    """mayor minister president premier pope governor spokesperson spokesman spokeswoman ambassador
    chancellor king queen prince princess senator congressman congresswoman lawmaker envoy
    commander prosecutor patriarch archbishop bishop chairman chairwoman ceo mp secretary pilot
    captain coach driver doctor lawyer journalist reporter editor priest""".split()
)
"""Titles and occupations of people that a source names when it reports what they did or said."""

CATEGORIES = frozenset(
    """city town village country nation region province state oblast district club team company
    firm group organisation organization party newspaper outlet publication bank airline person
    man woman official politician leader general brand channel agency court university school ship
    vessel airport plant unit brigade battalion language island river port base republic body
    nationality animal animals weapon weapons missile missiles system aircraft jet drone tank
    country""".split()
)
"""Target words usually answered with a name rather than repeated ("Which city..." -> "Dnipro")."""

_LOOSE_MODIFIERS = frozenset("former new first last latest current next previous main largest biggest other".split())
"""Modifiers a source need not repeat: "Which former president..." is answered by "Donald Trump"."""
_VAGUE = frozenset("type kind sort name number amount percentage share proportion part sum date day year month time hour".split())
MEASURES = frozenset("""calibre caliber size length range height weight speed distance depth width area price cost value
rate toll total capacity budget salary fine sentence temperature""".split())
"""Target words answered by a figure ("What calibre..." -> "240mm", "the death toll" -> "12 killed")."""
_AUXILIARIES = frozenset("did does do is are was were has have had will would can could should may might".split())
_WH = re.compile(r"\b(which|what|how many|how much)\b", re.I)


@dataclass(frozen=True)
class Phrase:
    """Words an answer must state together: a role and its modifiers, or a question's target."""

    words: tuple[str, ...]
    terms: tuple[str, ...]
    category: bool = False  # a target that a name may stand for

    def text(self) -> str:
        return " ".join(self.words)


@dataclass
class Focus:
    roles: list[Phrase] = field(default_factory=list)
    target: Phrase | None = None
    wants_figure: bool = False
    counted: tuple[Token, ...] = ()  # what "how many" counts ("lions", "prisoners of war")
    counted_head: Token | None = None  # the noun counted: "prisoners" of "prisoners of war", "bodies"
    wants_money: bool = False  # "how much ... paying", "how much money"
    speaker: str = ""  # X in "What did X say/tell...?"


def question_focus(question: str) -> Focus:
    """The names, roles, target and figure ``question`` asks about (see the module docstring)."""
    found = list(tokens(question))
    named = {id(t) for group in question_names(question) for t in group}
    counting = re.search(r"\bhow (many|much)\b", question, re.I)
    target = _target(question)
    asked_for = set(target.terms) if target else set()  # "Which former president..." asks for a name
    span = _span(question[counting.end() :]) if counting else []
    counted = tuple(t for t in span if t.term not in STOPWORDS)
    spoke = _SAID.search(question)
    return Focus(
        roles=[r for r in _roles(found, named) if not asked_for & set(r.terms)],
        target=target,
        wants_figure=bool(counting),
        counted=counted,
        counted_head=_counted_head(span),
        wants_money=counting is not None and (any(t.term in _MONEY_WORDS for t in counted)
                                              or (counting.group(1).casefold() == "much" and bool(_MONEY_VERB.search(question)))),
        speaker=spoke.group(1) if spoke else "",
    )


_SAID = re.compile(r"\bwhat did (.+?) (say|says|tell|write|claim|announce|warn|promise|reply|respond)\b", re.I)
SPEECH = re.compile(
    r"\b(said|says|say|told|tells|tell|stated|states|wrote|writes|warned|warns|announced|announces|claimed|claims"
    r"|promised|replied|responded|added|according to|called|calls|den(y|ies|ied)|spoke|speaking|insisted|dismissed"
    r"|acknowledged|confirmed|declined|urged|vowed|pledged|described|argued|asked|accused)\b|[“”\"]",
    re.I,
)  # a speech act, or a quotation
_MONEY_VERB = re.compile(rf"\b({'|'.join(map(re.escape, lexicon.questions()['money_verbs']))})\b", re.I)


def _span(text: str) -> list[Token]:
    """The words of ``text`` before its verb, at most four: up to an auxiliary ("did", "is"...)
    or, after a first word, a past tense ("Which former president threatened...")."""
    span: list[Token] = []
    for token in tokens(text):
        word = token.word.casefold()
        if word in _AUXILIARIES or len(span) == 4 or (span and word.endswith("ed") and len(word) > 4):
            break
        span.append(token)
    return span


def _roles(found: list[Token], named: set[int]) -> list[Phrase]:
    """Each role word with the lower-case content words just before it ("deputy defence minister")."""
    out = []
    for index, token in enumerate(found):
        if id(token) in named:
            continue  # a capitalized title ("the Pope", "President Xi") is checked as a name
        if token.word.casefold() not in ROLES and token.word.casefold().rstrip("s") not in ROLES:
            continue
        start = index
        while start > 0 and _modifier(found[start - 1], named):
            start -= 1
        end = _of_name(found, index + 1, named)
        phrase = found[start : index + 1] + found[end[0] : end[1]]
        out.append(Phrase(tuple(t.word for t in found[start:end[1] or index + 1]), tuple(t.term for t in phrase)))
    return out


def _of_name(found: list[Token], after: int, named: set[int]) -> tuple[int, int]:
    """The span of the name in "mayor of (the) Zaporizhzhia", which belongs to the role; (0, 0) if none."""
    i = after
    if i < len(found) and found[i].word.casefold() == "of":
        i += 1
        if i < len(found) and found[i].word.casefold() == "the":
            i += 1
        start = i
        while i < len(found) and id(found[i]) in named:
            i += 1
        if i > start:
            return start, i
    return 0, 0


def _modifier(token: Token, named: set[int]) -> bool:
    word = token.word.casefold()
    return (id(token) not in named and token.term not in STOPWORDS and word not in STOPWORDS and word not in _LOOSE_MODIFIERS
            and not token.word[0].isupper() and len(token.term) > 1)


def _target(question: str) -> Phrase | None:
    """The words between "which"/"what"/"how many" and the verb ("did", "is"...): what is asked for."""
    match = _WH.search(question)
    if not match:
        return None
    span = _span(question[match.end() :])
    if span and match.group(1).casefold() == "what" and span[0].word.casefold().endswith("ed"):
        return None  # "What caused the floods?", "What happened...": "what" is the subject
    if not span and match.group(1).casefold() == "what":
        span = _subject_asked(question[match.end() :])
    if span and span[0].word.casefold() in _VAGUE:
        rest = [t for t in span[1:] if t.word.casefold() != "of"]
        span = rest if len(span) > 1 and span[1].word.casefold() == "of" else []
    kept = [t for t in span if t.term not in STOPWORDS and not t.entity and len(t.term) > 1]
    last_category = max((i for i, t in enumerate(kept) if _is_category(t.word)), default=len(kept) - 1)
    kept = kept[: last_category + 1]  # "Which former chancellor gave..." asks for a chancellor
    if not kept or match.group(1).casefold().startswith("how"):
        return None  # "how many X": the figure is the focus, X is often left out ("five were hurt")
    return Phrase(tuple(t.word for t in kept), tuple(t.term for t in kept), category=_is_category(kept[-1].word))


_WHAT_IS_THE = re.compile(r"^\s*(is|was|are|were)\s+(the|a|an)\s+", re.I)
_ENDS_SUBJECT = frozenset("of against after before in on for from to with by at about over between during".split())


def _subject_asked(rest: str) -> list[Token]:
    """"What was the rouble's exchange rate against the dollar?" asks for "rouble's exchange rate":
    the words after "is/was the", up to a preposition."""
    match = _WHAT_IS_THE.match(rest)
    if not match:
        return []
    span: list[Token] = []
    for token in tokens(rest[match.end() :]):
        if token.word.casefold() in _ENDS_SUBJECT or token.word.casefold() in _AUXILIARIES or len(span) == 4:
            break
        span.append(token)
    return span


def answers_target(target: Phrase, text: str, question: str) -> bool:
    """Whether ``text`` names what the question's target asks for. The words before the last one
    ("football" in "which football club") must be stated, one of them at least, unless they are
    category words; the last one is stated or answered by a name the question lacks ("Which
    republic..." -> "Dagestan", "Which animals..." -> "Lions, Ducks and Bears")."""
    pool = content_terms(text)
    modifiers = [t for t, w in zip(target.terms[:-1], target.words[:-1]) if not _is_category(w) and w.casefold() not in _LOOSE_MODIFIERS]
    if modifiers and not any(matches(term, pool) for term in modifiers):
        return False
    if matches(target.terms[-1], pool) or (target.words[-1].casefold() in MEASURES and numbers(text)):
        return True
    if not target.category:
        return False
    asked = {t.term for group in question_names(question) for t in group}
    return any(t.term not in asked for group in question_names(text) for t in group)


def _is_category(word: str) -> bool:
    """A word a name answers: a kind of place, group or thing (``CATEGORIES``) or a role."""
    word = word.casefold()
    return any(w in CATEGORIES or w in ROLES for w in (word, word.rstrip("s")))


_COUNTED_AS = {"casualti": ("kill", "wound"), "peopl": ("civilian", "resid", "person", "kill", "wound")}
"""What a count of these is reported as: casualties as killed and wounded, people as civilians..."""
_MONEY_WORDS = frozenset(t for word in lexicon.questions()["money_words"] for t in content_terms(word))
CURRENCY = re.compile(r"[$€£¥₽₴]|\b(dollars?|euros?|roubles?|rubles?|pounds?|yuan|hryvnias?|usd|eur|rub)\b", re.I)


def counts_asked(focus: Focus, text: str) -> bool:
    """Whether a sentence with a figure gives the figure asked for: a sum of money when money is
    asked about ("How much is the city paying..." -> "$200 million"); otherwise it names the noun
    counted ("How many lions...", "how many soldiers' bodies"), and the names in what is counted
    ("How many Storm Shadow missiles...")."""
    if focus.wants_money:
        return bool(CURRENCY.search(text))
    pool = content_terms(text)
    counted = [t for t in focus.counted if t.term not in _MONEY_WORDS]
    head = focus.counted_head
    wanted = [w for t in ([head] if head else counted) for w in (t.term, *_COUNTED_AS.get(t.term, ()))]
    named = [t.term for t in counted if not t.initial and t.word[:1].isupper() and not _DEMONYM.search(t.word)]
    return (not wanted or any(matches(term, pool) for term in wanted)) and all(matches(term, pool) for term in named)


def _counted_head(span: list[Token]) -> Token | None:
    """The noun a count is of: the last lower-case word before "of" ("prisoners of war"), else the
    last lower-case content word ("Chilean soldiers' bodies" -> "bodies"); None when there is none."""
    before_of = next((i for i, t in enumerate(span) if t.word.casefold() == "of"), None)
    words = span[:before_of] if before_of else span
    plain = [t for t in words if t.word.islower() and t.term not in STOPWORDS]
    return plain[-1] if plain else None


_DEMONYM = re.compile(r"(an|ese|ish|i)$")  # "Russian", "Chinese", "British", "Israeli": an attribute, not the thing counted
