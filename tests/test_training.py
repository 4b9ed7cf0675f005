"""The synthetic examples that training/support_judge.py adds to the human labels (FactCC style):
each generator changes exactly what its name says, or declines."""

import random

import pytest

from training.synthetic import (
    add_cause,
    change_date,
    change_entity,
    change_number,
    change_scale,
    drop_hedge,
    first_clause,
    make_claim,
    negate,
    swap_entities,
)

ARTICLE = "Officials in Kyiv met envoys from Warsaw. The ministry said 4,500 people left Kharkiv on Monday in March 2024."
SENTENCE = "The ministry said 4,500 people left Kharkiv on Monday in March 2024."


@pytest.mark.parametrize(
    "generator, expected",
    [
        (change_number, lambda s: "4,500" not in s and "people left Kharkiv" in s),
        (change_scale, lambda s: "45,000" in s or "450 " in s),
        (change_date, lambda s: "Monday" not in s or "March" not in s or "2024" not in s),
        (add_cause, lambda s: s.startswith(SENTENCE[:-1]) and len(s) > len(SENTENCE)),
    ],
)
def test_each_negative_changes_the_sentence(generator, expected):
    changed = generator(SENTENCE, random.Random(1), ARTICLE)
    assert changed and changed != SENTENCE and expected(changed), changed


def test_negation_adds_or_removes_not():
    assert negate("The bridge was closed on Friday.", random.Random(0), "") == "The bridge was not closed on Friday."
    assert negate("The bridge was not closed on Friday.", random.Random(0), "") == "The bridge was closed on Friday."
    assert negate("The bridge closed on Friday.", random.Random(0), "") is None  # no auxiliary: declines


def test_entity_change_uses_a_name_from_the_same_article():
    changed = change_entity(SENTENCE, random.Random(3), ARTICLE)
    assert changed != SENTENCE and any(name in changed for name in ("Kyiv", "Warsaw", "Officials"))


def test_swap_needs_two_names_and_hedges_need_a_hedge():
    assert swap_entities("Yesterday Poland thanked Germany for the loan.", random.Random(0), "") == "Yesterday Germany thanked Poland for the loan."
    assert swap_entities("The loan was repaid.", random.Random(0), "") is None
    assert drop_hedge("About 300 homes may have flooded.", random.Random(0), "") == "300 homes may have flooded."
    assert drop_hedge("Rain fell.", random.Random(0), "") is None


def test_positives_are_spans_of_the_article():
    sentences = ["The bridge, which opened in 1990, carries 40,000 cars a day.", "It will close for repairs in May."]
    assert first_clause("The minister, who took office in May, resigned on Friday after a vote.", random.Random(0), "") is None
    assert first_clause("The council approved the new budget on Tuesday, but the mayor vetoed it.", random.Random(0), "") == (
        "The council approved the new budget on Tuesday.")
    fused = make_claim("fused", sentences, 0, " ".join(sentences), "", random.Random(0))
    assert fused.label == 1 and fused.claim == "The bridge, which opened in 1990, carries 40,000 cars a day, and it will close for repairs in May."
    other = make_claim("other-article", sentences, 0, " ".join(sentences), "Snow closed the airport.", random.Random(0))
    assert (other.claim, other.label) == ("Snow closed the airport.", 0)


def test_report_helpers_by_hand(tmp_path):
    import json

    import numpy as np

    from training.report import bootstrap_difference, choose_checks, merged_oof
    from training.support_judge import Example

    labels, datasets = np.array([1, 1, 0, 0]), np.array(["a", "a", "a", "a"])
    same = np.array([True, False, False, True])
    assert bootstrap_difference(labels, same, same, datasets, np.array(["g1", "g2", "g3", "g4"]), resamples=50) == (0.0, 0.0)
    # a veto that changes nothing on these rows ties with none: the stricter choice wins
    rows = [Example("c", "e", int(y), "a", f"g{i}", problems=[]) for i, y in enumerate(labels)]
    vetoes, threshold = choose_checks(np.array([0.9, 0.8, 0.1, 0.2]), rows, labels, datasets)
    assert vetoes == ("number", "name", "negation", "roles") and 0.2 < threshold <= 0.8
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps({"training_digest": "x", "oof": [0.5, None]}))
    second.write_text(json.dumps({"training_digest": "x", "oof": [0.4, None]}))
    with pytest.raises(SystemExit, match="scores rows another file already scored"):
        merged_oof([first, second], "x", 2)
    with pytest.raises(SystemExit, match="made from other prepared rows"):
        merged_oof([first], "y", 2)
    assert merged_oof([first], "x", 2)[0] == 0.5
