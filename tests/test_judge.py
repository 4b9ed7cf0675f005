"""The lexical support judge on hand-written (sentence, evidence, expected verdict) cases."""

import pytest

from briefing.answer.judge import LexicalJudge, numbers
from briefing.answer.judges import make_judge
from briefing.errors import ConfigError, OptionError

PENTAGON = (
    "The Pentagon said on Nov. 4 that at least 10,000 North Korean soldiers are now in Russia's Kursk region. "
    "Officials in Seoul did not confirm the figure."
)
DEPLOYMENT = "North Korea sent troops to Russia in October 2024 after the two countries signed a defence pact in June."
DENIAL = "The Kremlin has not confirmed that North Korean troops are fighting in Kursk."

CASES = [
    # (claim, source, supported, what it shows)
    ("The Pentagon said on Nov. 4 that at least 10,000 North Korean soldiers are now in Russia's Kursk region.", PENTAGON, True, "verbatim"),
    ("At least 10,000 North Korean troops are in the Kursk region, according to the Pentagon.", PENTAGON, True, "paraphrase: synonyms, reordering, attribution"),
    ("North Korean forces in Kursk number at least 10,000, the Pentagon said on Nov. 4.", PENTAGON, True, "paraphrase with date"),
    ("The Pentagon said at least 12,000 North Korean soldiers are in the Kursk region.", PENTAGON, False, "wrong number"),
    ("The Pentagon said on Nov. 4 that at least 10 North Korean soldiers are in Kursk.", PENTAGON, False, "number that is a prefix of the right one"),
    ("North Korea sent troops to Russia in November 2024.", DEPLOYMENT, False, "wrong month"),
    ("North Korea sent troops to Russia in October 2023.", DEPLOYMENT, False, "wrong year"),
    ("Russia sent troops to North Korea in October 2024.", DEPLOYMENT, False, "swapped entities"),
    ("Troops were sent to Russia by North Korea in October 2024.", DEPLOYMENT, True, "passive voice keeps the roles"),
    ("Officials in Seoul confirmed the figure.", PENTAGON, False, "negation dropped"),
    ("The Kremlin has confirmed that North Korean troops are fighting in Kursk.", DENIAL, False, "negation dropped (has not)"),
    ("The Kremlin has not confirmed that North Korean troops are fighting in Kursk.", DENIAL, True, "negation kept"),
    ("China said at least 10,000 North Korean soldiers are in Russia's Kursk region.", PENTAGON, False, "name not in the source"),
    ("North Korean troops have captured the city of Sumy.", PENTAGON, False, "unrelated claim"),
    ("Ukraine has surrendered.", PENTAGON, False, "nothing in common"),
]


@pytest.mark.parametrize("claim, source, supported, why", CASES, ids=[c[3] for c in CASES])
def test_lexical_judge_cases(claim, source, supported, why):
    verdict = LexicalJudge().judge(claim, [source])
    assert verdict.supported is supported, verdict.reason
    assert verdict.judge == "lexical" and 0.0 <= verdict.score <= 1.0 and verdict.reason


def test_reasons_name_the_problem():
    judge = LexicalJudge()
    assert judge.judge(CASES[3][0], [PENTAGON]).reason == "12,000 is not in the cited text"
    assert judge.judge(CASES[5][0], [DEPLOYMENT]).reason == "a date not in the cited text: November"
    assert judge.judge(CASES[7][0], [DEPLOYMENT]).reason == "Russia and north korea are in opposite roles in the cited text"
    assert judge.judge(CASES[9][0], [PENTAGON]).reason == "'Officials in Seoul confirmed the figure.' is positive where the cited text is not"


def test_support_may_come_from_several_cited_texts():
    claim = "The Pentagon put the force at 10,000 while Seoul did not confirm the figure."
    sources = ["The Pentagon said at least 10,000 North Korean soldiers are in Kursk.", "Officials in Seoul did not confirm the figure."]
    assert LexicalJudge().judge(claim, sources).supported


@pytest.mark.parametrize(
    "text, expected",
    [
        ("10,000 troops", {10000.0}),
        ("11,000 to 12,000", {11000.0, 12000.0}),
        ("3.5 million people", {3500000.0}),
        ("twelve ships and 2024", {12.0, 2024.0}),
    ],
)
def test_numbers(text, expected):
    assert numbers(text) == expected


def test_make_judge():
    assert make_judge("lexical").name == "lexical"
    with pytest.raises(OptionError, match="--judge llm needs a model"):
        make_judge("llm", None)
    with pytest.raises(ConfigError, match="unknown judge 'magic'"):
        make_judge("magic")
