"""End to end with the real local model: SmolLM2-135M through llama.cpp, and the real embedder.

The small model invents facts; this shows that whatever it writes, what reaches the brief cites
valid evidence and passed the judge. Kept under about a minute: 5 evidence chunks, short answers.
It needs the `local` extra (llama-cpp-python compiles for about 7 minutes), so it is selected
explicitly: `make test-local` (pytest -m local_model). tests/test_llm.py covers our llama.cpp
adapter in every run, with a fake llama_cpp module.
"""

import pytest

from briefing.ingest.run import ingest
from briefing.output.render import to_markdown
from briefing.pipeline import Components, write_brief
from briefing.settings import Settings
from tests.conftest import CORPUS


@pytest.mark.slow
@pytest.mark.local_model
def test_local_model_brief_on_the_sample_corpus(monkeypatch, real_embedder):
    monkeypatch.setenv("BRIEFING_EVIDENCE_K", "5")
    monkeypatch.setenv("BRIEFING_MAX_OUTPUT_TOKENS", "400")
    monkeypatch.setenv("BRIEFING_MAX_REPAIRS", "2")
    settings = Settings()
    ingest([CORPUS], Components(settings, embedder=real_embedder))
    brief = write_brief("state of foreign involvement in the Kursk region", Components(settings, provider="local", embedder=real_embedder))
    assert brief.provider == "local" and brief.model == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert brief.usage.calls >= 1 and brief.usage.prompt_tokens > 0
    shown = [s for s in brief.sentences() if s.shown]
    assert len(shown) >= 3
    evidence = {e.key: e for e in brief.evidence}
    for sentence in shown:
        valid = [c for c in sentence.citations if c.valid]
        assert valid and sentence.verdict.supported, sentence
        for citation in valid:
            assert citation.quote in evidence[citation.key].text
    assert to_markdown(brief).count("\n- ") == len([s for s in shown if s.section != "headline"])
