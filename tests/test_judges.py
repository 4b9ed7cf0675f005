"""The judge registry and the trained judge shipped in the package (briefing/support_model/).

These tests load the shipped int8 ONNX file; they never train. Figures about how good the judge
is live in the card and README (cross-validated on human labels), not here: here we check that
what ships is intact, wired in, and behaves on clear-cut cases."""

import hashlib

import pytest
from typer.testing import CliRunner

from briefing.answer.cross_encoder import CARD_FILE, MODEL_FILE, TrainedJudge, evidence_window, load_card, model_dir, verbatim
from briefing.answer.judges import DEFAULT_JUDGE, JUDGES, OFFLINE_JUDGE, make_judge, scoring_judge_for
from briefing.cli import app
from briefing.errors import OptionError
from briefing.settings import Settings

PENTAGON = (
    "The Pentagon said on Nov. 4 that at least 10,000 North Korean soldiers are now in Russia's Kursk region. "
    "Officials in Seoul did not confirm the figure."
)


def test_every_registered_judge_builds_or_says_what_it_needs():
    for name, entry in JUDGES.items():
        if entry.needs_llm:
            with pytest.raises(OptionError, match=f"--judge {name} needs a model"):
                make_judge(name)
        elif name == "auto":
            assert make_judge(name).name == OFFLINE_JUDGE  # no model provider: the offline judge
        else:
            assert make_judge(name).name == name


def test_settings_and_cli_read_the_registry(monkeypatch):
    monkeypatch.setenv("BRIEFING_JUDGE", "magic")
    result = CliRunner().invoke(app, ["stats"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: invalid setting BRIEFING_JUDGE: unknown judge 'magic' (choose lexical, trained, learned, llm, model, auto)"
    monkeypatch.delenv("BRIEFING_JUDGE")
    assert Settings(judge="trained").judge == "trained"
    help_text = CliRunner().invoke(app, ["brief", "--help"], env={"COLUMNS": "200"}).stdout
    assert " | ".join(JUDGES) in help_text


def test_the_scoring_judge_differs_from_the_verifier():
    for name in ("lexical", "trained", "learned", "llm", "model"):
        assert scoring_judge_for(name) != name


def test_the_shipped_model_matches_its_card():
    card = load_card()
    model = model_dir() / MODEL_FILE
    assert (model_dir() / CARD_FILE).exists() and model.exists()
    assert hashlib.sha256(model.read_bytes()).hexdigest() == card["sha256"]
    assert set(card["trained_on"]) == {"train.jsonl", "dev.jsonl"}
    assert all(len(info["sha256"]) == 64 for info in card["trained_on"].values())
    # the window the model was trained in is the one its evidence was cut to (two different records)
    assert card["window_tokens"] == card["prepared"]["window_tokens"]
    assert set(card["vetoes"]) <= {"number", "name", "negation", "roles"} and 0 < card["threshold"] < 1
    assert card["stack"]["features"][-1] == "cross_encoder_logit" and len(card["stack"]["weights"]) == len(card["stack"]["features"])


def test_the_default_judge_is_auto_and_its_offline_choice_the_one_cross_validation_chose():
    assert DEFAULT_JUDGE == "auto" == Settings().judge
    assert load_card()["cross_validation"]["default"] == OFFLINE_JUDGE


def test_evidence_window_keeps_the_closest_sentences_in_text_order():
    sources = ["Alpha met Beta in Oslo. The weather was cold. Gamma signed the treaty in Oslo on Monday. Snow fell."]
    by_words = lambda texts: [len(t.split()) for t in texts]  # noqa: E731 - a stand-in token counter
    everything = evidence_window("Gamma signed the treaty.", sources, counter=by_words, budget=40)
    assert everything == sources[0]  # it all fits
    tight = evidence_window("Gamma signed the treaty in Oslo.", sources, counter=by_words, budget=23)
    assert tight == "Alpha met Beta in Oslo. Gamma signed the treaty in Oslo on Monday."


def test_verbatim_ignores_case_and_quote_marks_only():
    assert verbatim("the pentagon said on Nov. 4 that at least 10,000", PENTAGON)
    assert not verbatim("The Pentagon said on Nov. 4 that at least 1,000 North Korean soldiers", PENTAGON)


@pytest.fixture(scope="module")
def trained():
    return TrainedJudge()


def test_trained_judge_on_clear_cases(trained):
    quoted = trained.judge("The Pentagon said on Nov. 4 that at least 10,000 North Korean soldiers are now in Russia's Kursk region.", [PENTAGON])
    assert quoted.supported and quoted.reason == "stated word for word in the source"
    unrelated = trained.judge("Brazil won the football match against Chile on Sunday evening.", [PENTAGON])
    assert not unrelated.supported and unrelated.judge == "trained"
    paraphrase = trained.probability("At least 10,000 North Korean troops are in Kursk, the Pentagon said.", [PENTAGON])
    assert paraphrase > trained.probability("Brazil won the football match against Chile on Sunday evening.", [PENTAGON])


def test_trained_judge_vetoes_a_changed_name_or_scale(trained):
    assert set(trained.vetoes) >= {"number", "name", "negation", "hedge", "tense", "quantifier", "cause", "roles", "date"}
    china = trained.judge("China said at least 10,000 North Korean soldiers are in Russia's Kursk region.", [PENTAGON])
    assert not china.supported and china.reason.startswith("name not in the cited text: China")
    scale = trained.judge("About 1,000 troops crossed the border, officials said.", ["About ten thousand troops crossed the border, officials said."])
    assert not scale.supported and scale.reason == "1,000 is not in the cited text"
    same = trained.judge("Some 10,000 troops crossed the border, officials said.", ["About ten thousand troops crossed the border, officials said."])
    assert same.reason.startswith("support probability")  # the figure matches: the model decides


def test_trained_probability_is_the_card_stack_over_features_and_model_logit(trained):
    import numpy as np

    from briefing.answer.cross_encoder import evidence_window
    from briefing.answer.judge import judge_features, logistic

    claim = "At least 10,000 North Korean troops are in Kursk, the Pentagon said."
    p = trained.model.probabilities([(claim, evidence_window(claim, [PENTAGON], budget=trained.model.window_tokens))])[0]
    by_hand = logistic(trained.stack, np.append(judge_features(claim, [PENTAGON]), np.log(p / (1 - p))))
    assert trained.probability(claim, [PENTAGON]) == pytest.approx(float(by_hand))
