"""The model-backed judge's plumbing, against a scripted OpenAI-compatible server on loopback.

The server fakes the model only (``tests/fake_openai.py``): it drafts a brief of four sentences
citing the Pentagon article of the sample corpus, and answers the batched judge call by reading
the prompt it was sent. The retrieval, the checks of meaning, the verifier, the repair loop and
the response cache are the real ones. What is tested is the plumbing, not the model's judgement:
which sentences reach the model, in how many calls, how its verdicts come back, and the cache."""

import json
import re

import pytest
from typer.testing import CliRunner

from briefing.answer.prompting import render_prompt
from briefing.cli import app
from briefing.pipeline import Components, write_brief
from briefing.settings import Settings
from tests.conftest import CORPUS, HashingEmbedder
from tests.fake_openai import FakeOpenAI, Respond

QUOTE = "The Pentagon said on Nov. 4 that at least 10,000 North Korean soldiers are now in Russia's Kursk region."
VERBATIM = QUOTE
PARAPHRASE = "At least ten thousand soldiers from North Korea are in the Kursk region now, the Pentagon said on Nov. 4."
WRONG_FIGURE = "The Pentagon said on Nov. 4 that at least 12,000 North Korean soldiers are now in Russia's Kursk region."
OVERREACH = "The Pentagon said on Nov. 4 that at least 10,000 North Korean soldiers are in Russia's Kursk region, on a secret mission."


class ScriptedModel:
    """Drafts the story holding the Pentagon's figure in two sentences (a fair paraphrase and an
    overreach); judges a batch by marking OVERREACH unsupported; repairs with a wrong figure."""

    def __init__(self):
        self.judge_system = render_prompt("judge_batch_system").strip()
        self.repair_system = render_prompt("repair_system").strip()
        self.judge_calls: list[str] = []

    def respond(self, messages: list[dict]) -> str:
        system = next(m["content"] for m in messages if m["role"] == "system").strip()
        user = next(m["content"] for m in messages if m["role"] == "user")
        if system == self.judge_system:
            self.judge_calls.append(user)
            claims = re.findall(r"^Claim (\d+): (.*)$", user, re.M)
            return json.dumps({"verdicts": [
                {"id": int(n), "supported": text != OVERREACH, "unsupported_part": "on a secret mission" if text == OVERREACH else "",
                 "reason": "the source says nothing of a mission" if text == OVERREACH else "the source states it"}
                for n, text in claims]})
        keys = [k for k, body in re.findall(r"^\[([^\]]+)\][^\n]*\n(.*?)(?=\n\n\[|\Z)", user, re.S | re.M) if QUOTE in body]
        if not keys:  # a story without the Pentagon's figure: nothing drafted, its sources' words stand
            return json.dumps({"sentences": []})
        cite = [{"key": keys[0], "quote": QUOTE}]
        if system == self.repair_system:  # a stubborn model: its rewrite fails the checks again
            return json.dumps({"text": WRONG_FIGURE, "citations": cite})
        return json.dumps({"sentences": [{"text": t, "citations": cite} for t in (PARAPHRASE, OVERREACH)]})


@pytest.fixture
def scripted(monkeypatch, tmp_path):
    model = ScriptedModel()
    server = FakeOpenAI().start()
    server.script = [Respond(model.respond)]
    embedder = HashingEmbedder()
    monkeypatch.setattr("briefing.pipeline.make_embedder", lambda *args: embedder)
    settings = Settings(home=tmp_path / "home", provider="openai", openai_base_url=server.base_url, openai_api_key="sk-test",
                        chroma_host=None)
    assert CliRunner().invoke(app, ["ingest", str(CORPUS)], env={"BRIEFING_HOME": str(settings.home)}).exit_code == 0
    yield settings, model, server
    server.stop()


def test_auto_is_the_model_backed_judge_with_an_api_provider_and_calls_it_once_per_brief(scripted):
    settings, model, _server = scripted
    briefing = write_brief("North Korean soldiers in the Kursk region", Components(settings))
    assert briefing.judge == "model"
    assert len(model.judge_calls) == 1  # one batched call for the whole brief
    asked = re.findall(r"^Claim \d+: (.*)$", model.judge_calls[0], re.M)
    assert asked == [PARAPHRASE, OVERREACH]  # the sources' own sentences never reach the model
    by_text = {s.original or s.text: s for s in briefing.sentences()}
    assert by_text[PARAPHRASE].action == "kept" and by_text[PARAPHRASE].verdict.judge == "model"
    assert by_text[OVERREACH].action in ("dropped", "replaced")  # the stubborn repair fails: never kept
    assert WRONG_FIGURE not in [s.text for s in briefing.shown()]  # the checks rejected the repair's wrong figure


def test_the_judge_call_is_cached_like_any_model_call(scripted):
    settings, model, server = scripted
    write_brief("North Korean soldiers in the Kursk region", Components(settings))
    requests = len(server.requests)
    again = write_brief("North Korean soldiers in the Kursk region", Components(settings))
    assert len(server.requests) == requests and len(model.judge_calls) == 1  # everything came from the cache
    assert again.judge == "model"


def test_the_offline_judge_is_chosen_without_an_api_provider(scripted):
    settings, model, _server = scripted
    briefing = write_brief("North Korean soldiers in the Kursk region", Components(settings, provider="extractive"))
    assert briefing.judge == "trained" and not model.judge_calls


class FakeStructured:
    """Fakes the structured model only: answers a batch with the verdicts it is given, by claim id."""

    provider, model = "openai", "fake"

    def __init__(self, verdicts):
        self.verdicts, self.calls = verdicts, 0

    def generate(self, messages, schema):
        self.calls += 1
        return schema.model_validate({"verdicts": self.verdicts})


def test_the_models_verdict_names_the_unsupported_part_and_a_missing_verdict_fails_safe():
    from briefing.answer.judge import ModelBackedJudge

    llm = FakeStructured([{"id": 1, "supported": False, "unsupported_part": "on a secret mission", "reason": "not in the source"}])
    judge = ModelBackedJudge(llm)
    judge.prepare([(OVERREACH, [QUOTE]), (PARAPHRASE, [QUOTE])])
    assert llm.calls == 1
    assert judge.judge(OVERREACH, [QUOTE]).reason == "'on a secret mission' is not supported: not in the source"
    missing = judge.judge(PARAPHRASE, [QUOTE])  # the model skipped claim 2: unsupported, never assumed
    assert not missing.supported and missing.reason == "the model gave no verdict on this sentence"
    assert judge.judge(WRONG_FIGURE, [QUOTE]).reason == "12,000 is not in the cited text" and llm.calls == 1


def test_a_failed_model_call_falls_back_to_the_offline_judge_and_says_so():
    from briefing.answer.judge import ModelBackedJudge
    from briefing.errors import BriefingError

    class Failing:
        """Fakes a structured model whose provider fails."""

        provider, model = "openai", "fake"

        def generate(self, messages, schema):
            raise BriefingError("provider 'openai' failed: HTTP 500")

    verdict = ModelBackedJudge(Failing()).judge(PARAPHRASE, [QUOTE])
    assert verdict.judge == "trained" and "the model judge failed: provider 'openai' failed: HTTP 500" in verdict.reason
