"""Terms, focus and readable sentences: numbers in words with their scale, words in any script,
what a question asks for, and sentences that lean on the one before (issue 12's kinds, in more
shapes than the field cases F14-F18)."""

from __future__ import annotations

import pytest

from briefing.answer.focus import question_focus
from briefing.answer.judge import LexicalJudge
from briefing.terms import content_terms, numbers, words
from briefing.text import citable_text, indexed_text, leans_on_previous, split_sentences


@pytest.mark.parametrize(
    "text, expected",
    [
        ("about ten thousand containers", {10000.0}),
        ("three million people", {3e6}),
        ("two dozen drones", {24.0}),
        ("a dozen villages", {12.0}),
        ("half a million refugees", {5e5}),
        ("twenty-five tanks", {25.0}),
        ("two hundred and fifty thousand troops", {250000.0}),
        ("one and two", {1.0, 2.0}),  # "and" joins only after hundred or a scale
        ("a thousand soldiers", {1000.0}),
        ("$5m and €1.2bn", {5e6, 1.2e9}),
        ("the lock is 3.2 m deep", {3.2}),  # metres, not millions
        ("thousands of troops and dozens of drones", set()),  # vague plurals are not numbers
        ("a storm and half of them", set()),
    ],
)
def test_numbers_in_words_carry_their_scale(text, expected):
    assert numbers(text) == expected


@pytest.mark.parametrize(
    "claim, supported",
    [
        ("About 1,000 containers were stranded after the storm.", False),
        ("About 10,000 containers were stranded after the storm.", True),
        ("About 100,000 containers were stranded after the storm.", False),
        ("Some 24 drones hit the port.", True),
        ("Some 12 drones hit the port.", False),
        ("Half a million people lost power.", True),
        ("About 500,000 people lost power.", True),
        ("About 50,000 people lost power.", False),
    ],
)
def test_the_judge_matches_number_words_against_digits(claim, supported):
    source = ("About ten thousand containers were stranded after the storm. Two dozen drones hit the port. "
              "Half a million people lost power.")
    assert LexicalJudge().judge(claim, [source]).supported is supported


def test_words_are_unicode_letters_and_unspaced_scripts_become_character_pairs():
    assert words("Die Straße nach İzmir, Жуков") == ["Die", "Straße", "nach", "İzmir", "Жуков"]
    assert words("नई दिल्ली में बैठक") == ["नई", "दिल्ली", "में", "बैठक"]  # vowel signs stay in their words
    assert words("北码头") == ["北码", "码头"]
    assert words("東京タワー") == ["東京", "京タ", "タワ", "ワー"]
    assert {"重新", "开放"} <= content_terms("北码头将于周五重新开放。")


def test_the_judge_checks_names_and_content_in_any_script():
    judge = LexicalJudge()
    source = "Die Deutsche Bahn lässt ab Dezember einen Nachtzug von Frankfurt nach Barcelona fahren."
    assert judge.judge("Ab Dezember fährt ein Nachtzug von Frankfurt nach Barcelona.", [source]).supported
    assert not judge.judge("Ab Dezember fährt ein Nachtzug von Frankfurt nach Lissabon.", [source]).supported
    chinese = "港口管理局周三表示,北码头将于周五重新开放。"
    assert judge.judge("北码头将于周五重新开放。", [chinese]).supported
    assert not judge.judge("南码头将于周日重新开放。", [chinese]).supported


def test_chinese_and_japanese_full_stops_end_sentences():
    assert split_sentences("北码头将于周五重新开放。工人们修复了护栏。") == ["北码头将于周五重新开放。", "工人们修复了护栏。"]
    assert len(split_sentences("ذهب الولد. جاء الرجل.")) == 2  # a script without capitals


@pytest.mark.parametrize(
    "question, roles, target",
    [
        ("What did the mayor say about the harbour storm?", ["mayor"], None),
        ("What did the health minister say?", ["health minister"], None),
        ("Which football club did North Korean soldiers play against in Moscow?", [], "football club"),
        ("Which crossings did the ferry operator suspend?", [], "crossings"),
        ("What type of weapons did Iran send?", [], "weapons"),
        ("How many troops are in Kursk?", [], None),
    ],
)
def test_question_focus(question, roles, target):
    focus = question_focus(question)
    assert [r.text() for r in focus.roles] == roles
    assert (focus.target.text() if focus.target else None) == target


def answered(question: str, sentences: list[str]) -> list[str]:
    """Which of ``sentences`` ``answers.answer_sentences`` picks, each the body of a feed item under
    a plain headline; every sentence's embedding cosine is faked as 0.6 (the checks of names, roles
    and figures decide)."""
    from briefing.answer.answers import answer_sentences
    from briefing.answer.question import read_question
    from briefing.models import Evidence

    evidence = [Evidence(key=f"a{i}-0", article_id=f"a{i}", start=0, title=f"Report {i}", text=f"Report {i}\n\n{s}",
                         similarity=0.6) for i, s in enumerate(sentences)]
    picked = answer_sentences(read_question(question), evidence, {}, lambda texts: [0.6] * len(texts))
    return [s for s in sentences if any(s in d.text for d in picked.sentences)]


def test_what_an_answer_must_state():
    sources = ["The port authority said about ten thousand containers were stranded after Tuesday's storm."]
    assert answered("What did the mayor say about the storm?", sources) == []
    assert answered("What did the port authority say about the storm?", sources) == sources
    assert answered("Which football club did the soldiers play?", ["North Korean soldiers arrived in Moscow."]) == []
    # A category word ("Which city") is answered by a name the question lacks.
    assert answered("Which city did the missile hit?", ["Russia fired a new missile at Dnipro."]) != []
    assert answered("How many containers were stranded?", ["Containers were stranded."]) == []
    # The figure must count what is asked: "How many lions" is not answered by 3,000 troops.
    assert answered("How many lions did Putin send?", ["Putin gifts lions to a zoo.", "Korea sent 3,000 troops."]) == []
    assert answered("How many casualties did the troops suffer?", ["At least 30 soldiers were killed or wounded."]) != []
    # A loss figure does not say how many are there.
    assert answered("How many troops are in the border region?", ["At least 30 troops were killed in the border region."]) == []
    assert answered("How many containers were stranded?", sources) == sources


@pytest.mark.parametrize(
    "sentence, leans",
    [
        ("At least 10,000 of them are in the Kursk region.", True),
        ("They said the figure was wrong.", True),
        ("The decision follows two incidents in high winds.", True),
        ("But the Kremlin denied it.", True),
        ("Russia said its troops advanced.", False),
        ("Officials said they would respond.", False),
        ("The Kremlin denied it.", False),
    ],
)
def test_sentences_that_lean_on_the_one_before(sentence, leans):
    assert leans_on_previous(sentence) is leans


def test_citable_text_begins_with_the_headline_once():
    assert citable_text("Ferry operator suspends night crossings", "The decision follows two incidents.") == (
        "Ferry operator suspends night crossings\n\nThe decision follows two incidents."
    )
    assert citable_text("Quake kills 8", "Quake kills 8. Rescuers searched.") == "Quake kills 8. Rescuers searched."
    # What is embedded for the first chunk is what it was before headlines joined the text.
    text = citable_text("Ferry  operator\nsuspends", "The decision follows.")
    assert indexed_text("Ferry  operator\nsuspends", text) == "Ferry  operator\nsuspends\nThe decision follows."


def test_a_sentence_that_leans_on_the_one_before_is_shown_with_it():
    """Extractive answers and briefs: "At least 10,000 of them..." never appears without its antecedent."""
    from briefing.answer.answers import answer_sentences
    from briefing.answer.generate import candidate_sentences
    from briefing.answer.question import read_question
    from briefing.models import Evidence

    text = ("Pentagon puts North Korean force in Kursk at 10,000\n\n"
            "The United States estimates that 11,000 to 12,000 North Korean soldiers have been sent to Russia. "
            "At least 10,000 of them are in the Kursk region, the Pentagon said.")
    evidence = [Evidence(key="p-0", article_id="p", text=text, start=0, title="Pentagon puts North Korean force in Kursk at 10,000")]
    question = read_question("How many North Korean soldiers are in the Kursk region?")
    drafted = answer_sentences(question, evidence, {}, lambda texts: [0.6] * len(texts)).sentences
    brief = [c.draft("Key developments") for c in candidate_sentences("North Korean soldiers in the Kursk region", evidence)]
    assert any("At least 10,000 of them" in d.text for d in drafted)
    for d in drafted + brief:
        pieces = split_sentences(d.text)
        if any(p.startswith("At least 10,000 of them") for p in pieces):
            assert pieces[0].startswith("The United States estimates"), d.text
            assert d.citations[0].quote == d.text  # one quote covers both, so both are checked


def test_a_script_that_is_not_split_into_words_is_named():
    """Javanese script is written without spaces and is not cut into pairs here, so ingest names it
    in a warning (Tibetan, by contrast, marks its syllables and is matched syllable by syllable)."""
    from briefing.terms import unsplit_words

    javanese = "ꦲꦤꦕꦫꦏꦢꦠꦱꦮꦭꦥꦝꦗꦪꦚꦩꦒꦧꦛꦔ" * 3
    assert unsplit_words(f"{javanese}.") == javanese[:12]
    assert unsplit_words("Die Donaudampfschifffahrtsgesellschaftskapitänsmütze hängt am Haken.") is None
    assert unsplit_words("港口管理局周三表示北码头将于周五重新开放风暴过后工人们已经修复了码头的照明和护栏渡轮公司说周末的航班将恢复正常") is None


@pytest.mark.parametrize(
    "question, answer",
    [
        ("How many ministers resigned?", "Three ministers resigned on Monday."),  # "many" is no role modifier
        ("Which former president threatened tariffs?", "Donald Trump threatened tariffs on Canada."),
        ("What is the death toll in Dnipro?", "At least 12 people were killed in Dnipro."),  # a measure, answered by a figure
        ("What calibre are the launchers?", "North Korea shipped 240mm launchers."),
        ("How much did the central bank raise interest rates?", "The bank raised its key rate by 2 points to 21%."),
    ],
)
def test_fair_answers_are_given(question, answer):
    assert answered(question, [answer]) == [answer]


def test_self_contained_sentences_do_not_lean_and_headlines_match_whole_words():
    for sentence in ("Russia launched 100 drones, most of which were shot down.", "The attack on Dnipro killed 12 people.",
                     "This year, 500 migrants crossed the border.", "Both Russia and Ukraine claimed gains."):
        assert not leans_on_previous(sentence), sentence
    assert citable_text("Strike on Kyiv", "Strike on Kyivstar offices was reported.").startswith("Strike on Kyiv\n\n")
