"""The language knowledge verification reads (briefing/lexicon): every list is shown here for
review, and the table of states behaves as general knowledge, not as a corpus's vocabulary.

``tests/snapshots/lexicon.txt`` is every entry of english.toml, thresholds.toml, questions.toml, zones.toml and pages.toml,
one list a line: a change to a word list shows up in review as a change to that file (rewrite it with
``UPDATE_SNAPSHOTS=1``)."""

import os
from pathlib import Path

from briefing import lexicon
from briefing.answer.question import table as question_table
from briefing.terms import tokens

SNAPSHOT = Path(__file__).parent / "snapshots" / "lexicon.txt"


def listing() -> str:
    lines = []
    for section, values in {**lexicon.english(), **{f"thresholds.{k}": v for k, v in lexicon.thresholds().items()}}.items():
        for name, value in values.items():
            if isinstance(value, str):
                value = value.split()
            lines.append(f"{section}.{name}: {value!r}")
    for name, value in question_table().items():
        rows = value if isinstance(value, list) and value and isinstance(value[0], dict) else None
        if rows is not None:
            lines += [f"questions.{name}: {row!r}" for row in rows]
        elif isinstance(value, dict):
            lines += [f"questions.{name}.{key}: {entry!r}" for key, entry in value.items()]
        else:
            lines.append(f"questions.{name}: {value!r}")
    for section, values in lexicon.zones().items():
        lines += [f"zones.{section}.{name}: {value!r}" for name, value in values.items()]
    for section, values in lexicon.pages().items():
        lines += [f"pages.{section}.{name}: {entry!r}" for name, entries in values.items() for entry in entries]
    return "\n".join(lines) + "\n"


def test_every_entry_is_listed_for_review():
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(listing(), encoding="utf-8")
    assert listing() == SNAPSHOT.read_text(encoding="utf-8")


def test_synonyms_hold_no_names_the_table_of_states_covers_them():
    names = {n.casefold() for c in lexicon.countries() for n in c.names()}
    for group in lexicon.english()["synonyms"]["groups"]:
        for word in group:
            assert word == word.lower() and word not in names, word


def test_the_table_of_states_is_complete_and_unambiguous():
    states = lexicon.countries()
    assert len(states) == 197
    seen: dict[str, str] = {}
    for state in states:
        assert state.capitals, state.name
        for name in (state.name, *state.aliases):
            assert seen.setdefault(name.casefold(), state.name) == state.name, name


def test_names_shared_by_two_states_name_neither():
    assert lexicon.ambiguous_names() == {"congolese", "dominican", "dominicans"}  # reviewed: listed here on purpose
    assert tokens("Congolese")[0].term == "congoles"  # a plain word, not one of the two Congos


def test_every_name_of_a_state_becomes_one_term():
    assert {t.term for t in tokens("Washington") + tokens("the White House") + tokens("U.S.") + tokens("Americans")} == {"the", "united_states"}
    assert {t.term for t in tokens("Tokyo") + tokens("Japanese")} == {"japan"}
    assert [t.term for t in tokens("let us go")] == ["let", "us", "go"]  # the pronoun is no state
    assert tokens("US troops")[0].term == "united_states" and tokens("Kremlin")[0].term == "russia"


def test_thresholds_are_numbers_in_their_ranges():
    assert 0 < lexicon.threshold("lexical", "coverage") <= 1
    assert 0 < lexicon.threshold("alignment", "min_cover") < 1
    assert 50 <= lexicon.threshold("verify", "quote_match") <= 100


def test_every_page_pattern_compiles_and_none_matches_an_ordinary_sentence():
    import re

    ordinary = "The council approved the harbour budget on Tuesday, the mayor said."
    for section, values in lexicon.pages().items():
        for name, patterns in values.items():
            for pattern in patterns:
                assert not re.fullmatch(pattern, ordinary, re.IGNORECASE), (section, name, pattern)
                assert not re.search(pattern, ordinary, re.IGNORECASE) or section == "boilerplate", pattern
