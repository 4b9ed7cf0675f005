"""The checks of meaning (briefing/answer/checks.py), one kind at a time, on sentences written for
these tests (not the sample corpus, not the stress suite): each kind caught, and the fair
rewording beside it kept."""

import pytest

from briefing.answer.checks import claim_problems, dates_in, polarity, read, speakers

FLOOD = ("The regional council said on Aug. 14 that at least 200 homes were flooded and nearly 40 people were injured. "
         "It could take months to repair the dam, officials said.")
TALKS = "The two ministers plan to meet in Vienna next week. Neither side has ruled out a ceasefire."
TRADE = "Norway sold 30 turbines to Chile in 2023, according to the trade ministry."
AGENCY = "The National Security Council did not deny the report. About a fifth of the budget went to repairs."


@pytest.mark.parametrize("claim, source, kind", [
    ("The council said on Aug. 14 that at least 2,000 homes were flooded.", FLOOD, "number"),
    ("The council said on Aug. 14 that at least 40 homes were flooded.", FLOOD, "number"),  # 40 counts people, not homes
    ("The council said on Aug. 15 that at least 200 homes were flooded.", FLOOD, "date"),
    ("Norway sold 30 turbines to Peru in 2023, according to the trade ministry.", TRADE, "name"),
    ("Chile sold 30 turbines to Norway in 2023, according to the trade ministry.", TRADE, "roles"),
    ("The National Security Council denied the report.", AGENCY, "negation"),
    ("Repairing the dam will take months, officials said.", FLOOD, "hedge"),
    ("Norway sold 30 turbines to Chile in 2023.", TRADE, "hedge"),  # the speaker dropped
    ("The two ministers met in Vienna.", TALKS, "tense"),
    ("The council said on Aug. 14 that exactly 200 homes were flooded.", FLOOD, "quantifier"),
    ("The council said on Aug. 14 that all homes were flooded.", FLOOD, "quantifier"),
    ("Nearly 40 people were injured because the dam failed, the council said on Aug. 14.", FLOOD, "cause"),
])
def test_each_kind_of_error_is_caught(claim, source, kind):
    assert kind in {p.check for p in claim_problems(claim, [source])}


@pytest.mark.parametrize("claim, source", [
    ("On August 14 the council said no fewer than 200 homes had been flooded and almost 40 people hurt.", FLOOD),
    ("Officials said repairing the dam might take months.", FLOOD),
    ("Neither side has excluded a ceasefire, and the two ministers intend to meet in Vienna next week.", TALKS),
    ("The trade ministry says Chile bought 30 turbines from Norway in 2023.", TRADE),
    ("The NSC did not deny the report.", AGENCY),
    ("Roughly 20% of the budget went to repairs.", AGENCY),
    ("Under the figures given on Aug. 14, at least 200 homes were flooded, the council said.", FLOOD),
    # A reviewer's false alarms, each a kind: day-first dates, the month May, a fall "to" a figure,
    # a round figure without a comma, a stem inside another word, "First," opening a sentence.
    ("Talks resumed on 5 May.", "Talks resumed on May 5."),
    ("Talks may resume in May.", "Talks could resume in May."),
    ("Unemployment declined to 4% in June.", "Unemployment fell to 4% in June."),
    ("About 2000 troops crossed the border.", "About 2,000 troops crossed the border."),
    ("The causeway was closed.", "The bridge was closed."),
    ("First, the talks began.", "The talks began."),
    ("Thousands plan to march in the capital.", "Thousands plan to protest in the capital."),
    # Kinds from a second blind set: proper adjectives, plural acronyms, transliterated names,
    # negation in other words ("unaware", "without naming", "has yet to"), an epistemic hedge kept.
    ("Western allies backed the plan, lawmakers said.", "The plan was backed by its allies in the West, lawmakers said."),
    ("MPs approved the budget.", "Members of parliament approved the budget."),
    ("Mr Kovalenkko spoke to reporters.", "Mr Kovalenko spoke to reporters."),
    ("The minister said she was unaware of the deal.", "The minister said she had no knowledge of the deal."),
    ("The army reported a strike without naming the weapon.", "The army reported a strike but did not name the weapon."),
    ("The senate has yet to approve it.", "The senate still has to approve it."),
    ("Farmers will likely see a smaller harvest.", "Farmers will probably see a smaller harvest."),
])
def test_fair_rewordings_pass_every_check(claim, source):
    assert claim_problems(claim, [source]) == []


def test_the_claim_must_keep_the_sources_epistemic_hedge():
    assert [p.check for p in claim_problems("Farmers should expect a smaller harvest.", ["Farmers should probably expect a smaller harvest."])] == ["hedge"]


def test_an_acronym_must_spell_adjacent_capitalised_words():
    assert claim_problems("NSC officials met in Geneva.", ["National Security Council officials met in Geneva."]) == []
    fbi = claim_problems("FBI ministers met in Geneva on Monday.", ["Ministers from France, Britain and Italy met in Geneva on Monday."])
    assert [p.check for p in fbi] == ["name"]


def test_polarity_counts_negating_words_and_double_negation():
    assert polarity("They did not deny it.") == 0 and polarity("They denied it.") == 1
    assert polarity("The outcome is still uncertain.") == polarity("It is not yet clear.") == 1
    assert polarity("He did not rule out talks.") == 0



def test_dates_are_not_figures():
    assert dates_in("on Sept. 12 and 13, 2024")[0] >= {"m9d12", "m9d13", "y2024"}
    assert [f.value for f in read("12 settlements were taken on Sept. 12.").figures] == [12.0]


def test_figures_carry_their_unit_bound_and_what_they_count():
    first, second = read("at least 100 killed and nearly 1,000 wounded").figures
    assert (first.bound, second.bound) == ("lower", "upper")
    assert "kill" in first.counted and "wound" in second.counted


def test_speakers_are_the_names_before_a_speech_verb():
    assert {"ana", "ruiz"} <= speakers("Foreign Minister Ana Ruiz said the deal was done.").named
    assert speakers("He said the deal was done.").unnamed
    assert speakers("Chile's foreign minister said the deal was done.").unnamed  # a possessive name modifies the speaker
