"""Evaluation reports a reader can act on: for each case, what it missed (one line), its expected
facts found or MISSED, its shown sentences with their verdicts and what verification dropped and
why, in both report.json and report.html. A tiny suite runs on the sample corpus with the fake
chat model and the hashing embedder (no network, no key)."""

import html
import json

import pytest

from briefing.evaluate.cases import EvalCase
from briefing.evaluate.details import describe
from briefing.evaluate.run import run_suites
from briefing.ingest.run import ingest
from briefing.models import RetrievalFilter
from briefing.output.report import write_eval_report
from briefing.pipeline import Components, find_evidence
from briefing.settings import Settings
from tests.conftest import CORPUS
from tests.test_brief import ReadingChatModel, first_sentence
from tests.test_evaluate import A, B, briefing_of, cite, sentence

QUERY = "North Korean troops in Kursk"
PENTAGON = "2024-11-05-pentagon-10000-kursk.md"
INVENTED = "China has sent 40,000 soldiers to Kursk."
UNCITED = "Peace talks will open in January."


def suite_file(folder, corpus) -> str:
    path = folder / "report-suite.yaml"
    path.write_text(json.dumps({"suite": "tiny", "corpus": str(corpus), "cases": [
        {"id": "troops", "kind": "brief", "query": QUERY, "since": "2024-10-01", "publishers": [],
         "must_include": [{"fact": "Chinese soldiers", "articles": [PENTAGON]}], "must_not_include": ["January"]},
    ]}))
    return path


@pytest.fixture
def report_dir(tmp_path, fake_embedder):
    """Run the tiny suite with story drafts of one correct sentence (the headline) and one citing an
    invented key for the top chunk's story, and one citing nothing for every other story, and write
    its report; returns (folder, kept sentence)."""
    settings = Settings()
    ingest([CORPUS], Components(settings, embedder=fake_embedder))
    top = find_evidence(QUERY, Components(settings, embedder=fake_embedder), 10, RetrievalFilter())[0]
    kept = first_sentence(top.text)
    ours = {"sentences": [{"text": kept, "citations": [{"key": top.key, "quote": kept}]},
                          {"text": INVENTED, "citations": [{"key": "deadbeef-7", "quote": "China"}]}]}
    others = {"sentences": [{"text": UNCITED, "citations": []}]}
    components = Components(settings, chat_model=ReadingChatModel(reply=lambda prompt: ours if f"[{top.key}]" in prompt else others),
                            embedder=fake_embedder)
    report = run_suites(suite_file(tmp_path, CORPUS), components, out_dir=tmp_path / "out", resume=False)
    write_eval_report(report.model_dump(mode="json"), tmp_path / "report")
    return tmp_path / "report", kept


def test_report_json_says_what_was_missed_and_what_verification_did(report_dir):
    folder, kept = report_dir
    (case,) = json.loads((folder / "report.json").read_text())["suites"][0]["cases"]
    assert {"suite", "id", "kind", "metrics", "actions", "abstained", "briefing_file", "error"} <= set(case)  # as before
    assert case["query"] == QUERY and case["since"] == "2024-10-01" and case["should_abstain"] is None
    (fact,) = case["facts"]
    assert fact == {"fact": "Chinese soldiers", "articles": [PENTAGON], "unknown_articles": [], "found": False,
                    "stated_by": None, "stated_elsewhere": None}
    assert case["missed"][0] == f"fact 'Chinese soldiers' (expected in {PENTAGON})"
    by_text = {s["text"]: s for s in case["sentences"]}
    assert by_text[kept]["action"] == "kept" and by_text[kept]["shown"] and by_text[kept]["verdict"]["supported"]
    invented, uncited = by_text[INVENTED], by_text[UNCITED]
    assert (invented["action"], invented["shown"], invented["original"]) == ("dropped", False, INVENTED)
    assert invented["verdict"]["reason"] == "key 'deadbeef-7' is not in the evidence"
    assert invented["citations"][0]["problem"] == "key 'deadbeef-7' is not in the evidence"
    assert uncited["verdict"]["reason"] == "no citation"
    assert case["forbidden_found"] == []  # "January" was only in a dropped sentence


def test_report_html_shows_each_case_block(report_dir):
    folder, kept = report_dir
    page = (folder / "report.html").read_text()
    case = json.loads((folder / "report.json").read_text())["suites"][0]["cases"][0]
    block = page[page.index('<section id="case-tiny-troops">'):]
    assert block.index("missed:") < block.index("Expected facts")  # the missed line heads the block
    assert html.escape(f"fact 'Chinese soldiers' (expected in {PENTAGON})") in block
    assert "<strong>MISSED</strong>" in block and html.escape(f"query: “{QUERY}”") in block
    assert "window: since 2024-10-01" in block
    kept_verdict = next(s["verdict"] for s in case["sentences"] if s["text"] == kept)
    assert html.escape(kept) in block and html.escape(kept_verdict["reason"]) in block
    assert f"score {kept_verdict['score']:.2f}" in block
    changed = block[block.index("Changed by verification"):]
    assert html.escape(INVENTED) in changed and html.escape("key 'deadbeef-7' is not in the evidence") in changed
    assert html.escape(UNCITED) in changed and "no citation" in changed and "(not shown)" in changed
    assert "<script" not in page and 'href="#case-tiny-troops"' in page


def test_ask_case_detail_says_whether_it_should_have_abstained(tmp_path):
    unanswerable = EvalCase(id="pope", kind="ask", query="What did the Pope say?", unanswerable=True,
                            must_not_include=["<b>ten</b>|ten"])
    answered = briefing_of(sentence("It was <b>ten</b>.", [cite(A)]), sentence("Twenty.", [cite(B)], action="dropped"))
    detail = describe(unanswerable, answered, {})
    assert detail.should_abstain is True and detail.forbidden_found == ["<b>ten</b>|ten"]
    assert detail.missed == ["answered, but should have abstained", "forbidden '<b>ten</b>|ten' appeared"]
    report = {"provider": "p", "model": "m", "judge": "j", "commit": None, "created_at": "now", "aggregate": {},
              "suites": [{"suite": "s", "cases": [{"suite": "s", "id": "pope", "kind": "ask", "metrics": {}, "actions": {},
                                                   "abstained": False, **detail.model_dump(mode="json")}]}]}
    write_eval_report(report, tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert "abstained: no · should have: yes · WRONG" in page
    assert "<b>ten</b>" not in page and html.escape("It was <b>ten</b>.") in page  # text is escaped


def test_a_failed_run_reports_its_error_as_missed():
    case = EvalCase(id="c", kind="brief", query="figures", must_include=[{"fact": "ten", "articles": ["gone.md"]}])
    detail = describe(case, None, {}, error="the model timed out")
    assert detail.missed == ["the run failed: the model timed out"]
    assert detail.facts[0].found is False and detail.facts[0].unknown_articles == ["gone.md"]
