"""A question read once (briefing/answer/question.py) and answered part by part
(briefing/answer/answers.py): what it asks for, its time, its parts, its owner and its language.

The pipeline tests run `ask` with the extractive provider and the real packaged embedder over a
few feed items written here (samples, not news), so what they assert is what a user would see.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from briefing.answer.answers import EARLIER
from briefing.answer.question import question_language, read_question, split_parts
from briefing.ingest.run import ingest
from briefing.models import ABSTAIN
from briefing.output.render import to_markdown
from briefing.pipeline import Components, answer_question
from briefing.settings import Settings

REFERENCE = datetime(2024, 12, 21, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "question, asks",
    [
        ("How many ships waited at the port?", "figure"),
        ("How much is the city paying for the new quay?", "money"),
        ("How old is the harbour master?", "age"),
        ("In which month did the ferry service resume?", "date"),
        ("When did the storm hit?", "date"),
        ("Who signed the agreement?", "person"),
        ("Where did the tanker run aground?", "place"),
        ("Why did the port close?", "reason"),
        ("What did the mayor say about the storm?", "statement"),
        ("What happened at the port on Monday?", "event"),
        ("Will the ferry company cut its prices?", "yes-no"),
        ("Which crossings did the operator suspend?", "thing"),
        ("What is the latest death toll from the storm?", "figure"),
        ("How did the minister describe the deal?", "thing"),
        ("Wie viele Schiffe warten im Hafen?", "figure"),
    ],
)
def test_what_a_question_asks_for(question, asks):
    assert read_question(question, reference=REFERENCE).asks == asks


def test_a_day_in_the_question_sets_a_window_with_the_days_reports_after_it():
    time = read_question("What happened at the port on December 20?", reference=REFERENCE).time
    assert time.since == datetime(2024, 12, 20, tzinfo=UTC)
    assert time.until is not None and time.until.date().isoformat() == "2024-12-21"  # reported the day after too
    assert time.phrase == "on December 20" and time.months == (12,)
    # A date without a year is its latest occurrence up to the newest report.
    later = read_question("What happened on 20 December?", reference=datetime(2025, 3, 1, tzinfo=UTC)).time
    assert later.since == datetime(2024, 12, 20, tzinfo=UTC)


def test_a_month_a_preposition_and_a_time_zone():
    october = read_question("What did the board decide in October?", reference=REFERENCE).time
    assert october.since == datetime(2024, 10, 1, tzinfo=UTC) and october.months == (10,)
    since = read_question("What has changed since November 3?", reference=REFERENCE).time
    assert since.since == datetime(2024, 11, 3, tzinfo=UTC) and since.until is None
    kyiv = read_question("What happened on December 20?", reference=REFERENCE, timezone="Europe/Kyiv").time
    assert kyiv.since == datetime(2024, 12, 19, 22, tzinfo=UTC)


def test_relative_time_counts_from_now_and_latest_sets_no_window():
    now = datetime(2026, 12, 9, 12, tzinfo=UTC)  # a Wednesday
    last_week = read_question("What did the board say last week?", now=now).time
    assert last_week.since == datetime(2026, 11, 30, tzinfo=UTC) and last_week.until is not None
    assert last_week.until.date().isoformat() == "2026-12-06"
    latest = read_question("What is the latest figure for ships waiting?", reference=REFERENCE)
    assert latest.time.latest and not latest.time.window and "latest" not in latest.terms


def test_two_part_questions_are_split_and_a_part_keeps_what_is_counted():
    question = read_question("How many drones did the navy launch, and how many were shot down?", reference=REFERENCE)
    assert [p.text for p in question.parts] == ["How many drones did the navy launch?", "how many were shot down?"]
    assert [t.word for t in question.parts[1].focus.counted] == ["drones"]
    assert split_parts("Who won the match and the cup?") == ["Who won the match and the cup?"]  # one question


def test_whose_statement_or_figure_is_asked_for():
    assert read_question("What is the Pentagon's estimate of the troops?").owners == ("Pentagon",)
    radakin = read_question("How many were hurt each day, according to UK defence chief Tony Radakin?")
    assert len(radakin.owners) == 2 and radakin.owners[1] == "Tony Radakin"  # the UK (as its one term) or Radakin
    mayor = read_question("What did the mayor of Arlen say about the storm?")
    assert mayor.owner_role == "mayor" and mayor.asks == "statement"
    assert [[t.word for t in g] for g in read_question("How many troops are in Russia's Belgorod region?").names] == [
        ["Russia's"], ["Belgorod"]]


@pytest.mark.parametrize(
    "text, language",
    [
        ("How many ships are waiting at the port?", "en"),
        ("Für wie viel Geld übernimmt die Werft den Hafen?", "de"),
        ("Сколько кораблей ждут в порту?", "ru"),
        ("Скільки кораблів чекають у порту?", "uk"),
        ("Port Arlen?", ""),  # too few function words to tell
    ],
)
def test_the_language_of_a_question(text, language):
    assert question_language(text) == language


# --- asked through the pipeline ----------------------------------------------------------------

ITEMS = [
    ("a1", "2024-11-10T09:00:00Z", "Harbour board counts ships at Port Arlen (sample)",
     "The harbour board said 120 cargo ships were waiting to unload at Port Arlen on Sunday."),
    ("a2", "2024-12-02T09:00:00Z", "Queue at Port Arlen grows (sample)",
     "The harbour board said 180 cargo ships were now waiting to unload at Port Arlen."),
    ("a3", "2024-11-20T09:00:00Z", "Ferry line resumes night crossings (sample)",
     "The Dunmore ferry line said its night crossings would resume after repairs to the ramp."),
]


@pytest.fixture(scope="module")
def harbour(tmp_path_factory, real_embedder):
    home = tmp_path_factory.mktemp("harbour")
    feed = home / "items.jsonl"
    feed.write_text("\n".join(json.dumps({"id": i, "publisher": "Sample Gazette", "title": t, "published": p, "text": x,
                                          "url": f"https://gazette.example/{i}"}) for i, p, t, x in ITEMS) + "\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRIEFING_HOME", str(home))
        ingest([feed], Components(Settings(), embedder=real_embedder))
    return Components(Settings(home=home), provider="extractive", embedder=real_embedder)


def shown_text(briefing) -> str:
    return " ".join(s.text for s in briefing.shown())


@pytest.mark.slow
def test_latest_gives_the_newest_figure_and_marks_the_older_one_earlier(harbour):
    answer = answer_question("What is the latest number of cargo ships waiting at Port Arlen?", harbour)
    sections = {s.title: " ".join(c.text for c in s.sentences if c.shown) for s in answer.sections}
    assert "180" in sections["Answer"] and "120" not in sections["Answer"]
    assert "120" in sections.get(EARLIER, "")


@pytest.mark.slow
def test_a_day_in_the_question_is_the_window_and_the_output_says_so(harbour):
    answer = answer_question("How many cargo ships were waiting at Port Arlen on November 10?", harbour)
    assert "120" in shown_text(answer) and "180" not in shown_text(answer)
    assert answer.question is not None and answer.question.window_applied
    assert "(from the question: “on November 10”)" in to_markdown(answer)


@pytest.mark.slow
def test_a_part_no_source_answers_is_named(harbour):
    answer = answer_question("How many cargo ships were waiting at Port Arlen in December, and who is the harbour master?",
                             harbour)
    assert "180" in shown_text(answer)
    assert answer.unanswered == ["who is the harbour master?"]
    assert "The sources don't say: who is the harbour master?" in to_markdown(answer)


@pytest.mark.slow
@pytest.mark.parametrize("question", [
    "How many cargo ships were waiting at Port Belmont?",  # another place
    "How many cargo ships were waiting at Port Arlen in March?",  # another month
    "What did the mayor say about the queue at Port Arlen?",  # a role no source names
])
def test_near_misses_abstain_and_say_what_no_source_states(harbour, question):
    answer = answer_question(question, harbour)
    assert answer.abstained and not answer.shown(), shown_text(answer)
    reason = answer.abstain_reason or ""
    assert "no source states" in reason or reason == "no articles match"  # March: nothing in that window


@pytest.mark.slow
def test_a_question_in_another_language_says_it_is_not_supported_and_lists_no_sources(harbour):
    answer = answer_question("Wie viele Frachtschiffe warten im Hafen von Port Arlen?", harbour)
    markdown = to_markdown(answer)
    assert answer.abstained and "German" in (answer.abstain_reason or "") and "English" in (answer.abstain_reason or "")
    assert ABSTAIN in markdown and "Closest sources found" not in markdown and not answer.evidence
