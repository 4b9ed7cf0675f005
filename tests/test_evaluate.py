"""Evaluation suites: case-file schema, every metric on hand-computed examples (ALCE's precision rule
included), bootstrap intervals, --fail-under, skipping a suite whose corpus is absent, resuming."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefing.cli import app
from briefing.errors import BriefingError, InputError
from briefing.evaluate.cases import EvalCase, load_suite
from briefing.evaluate.run import run_suites
from briefing.evaluate.scoring import (
    EvalReport,
    Interval,
    alce_citation_scores,
    bootstrap,
    case_metrics,
    check_fail_under,
    key_fact_recall,
)
from briefing.models import Briefing, CheckedSentence, Citation, Evidence, Section, Verdict
from briefing.pipeline import Components
from tests.conftest import CORPUS, ROOT

UTC = UTC


class TableJudge:
    """Fake judge for metric tests: supported exactly when the set of cited texts is in its table."""

    name = "table"

    def __init__(self, supported: list[set[str]]):
        self.supported = [frozenset(s) for s in supported]

    def judge(self, claim, sources):
        ok = frozenset(sources) in self.supported
        return Verdict(supported=ok, score=float(ok), reason="table", judge=self.name)


def evidence(key: str, text: str, article: str) -> Evidence:
    return Evidence(key=key, article_id=article, text=text, start=0, title=key, publisher="P", url=f"https://x.example/{key}")


def cite(ev: Evidence) -> Citation:
    return Citation(key=ev.key, quote=ev.text, start=0, end=len(ev.text), url=ev.url)


def sentence(text: str, citations: list[Citation], action: str = "kept") -> CheckedSentence:
    verdict = Verdict(supported=action != "dropped", score=1.0, reason="", judge="t")
    return CheckedSentence(section="Key developments", text=text, citations=citations, verdict=verdict, action=action)


A = evidence("a-0", "Source A says ten.", "art-a")
B = evidence("b-0", "Source B says twenty.", "art-b")
C = evidence("c-0", "Source C says nothing useful.", "art-c")


def briefing_of(*sentences: CheckedSentence, abstained: bool = False) -> Briefing:
    return Briefing(query="q", sections=[Section(title="Key developments", sentences=list(sentences))],
                    evidence=[A, B, C], provider="extractive", model="none", judge="t",
                    created_at=datetime(2024, 12, 1, tzinfo=UTC), abstained=abstained)


def test_alce_recall_and_precision_by_hand():
    s1 = sentence("one", [cite(A), cite(C)])  # A+C support it; A alone does; C alone doesn't -> C irrelevant
    s2 = sentence("two", [cite(B)])  # B supports it
    s3 = sentence("three", [cite(C)])  # nothing supports it
    judge = TableJudge([{A.text, C.text}, {A.text}, {B.text}])
    recall, precision = alce_citation_scores([s1, s2, s3], briefing_of(s1, s2, s3), judge)
    assert recall == pytest.approx(2 / 3)
    # citations: 4 in all; counted: A (s1), B (s2) -> 2/4. C in s1 is irrelevant; C in s3 belongs to an unsupported sentence.
    assert precision == pytest.approx(2 / 4)


def test_alce_precision_keeps_a_citation_needed_jointly():
    s = sentence("both", [cite(A), cite(B)])  # only A and B together support it: neither is irrelevant
    recall, precision = alce_citation_scores([s], briefing_of(s), TableJudge([{A.text, B.text}]))
    assert (recall, precision) == (1.0, 1.0)


def test_key_fact_recall_needs_the_fact_and_a_citation_to_a_listed_article():
    case = EvalCase(id="c", kind="brief", query="figures",
                    must_include=[{"fact": "ten", "articles": ["file-a.md"]}, {"fact": "twenty", "articles": ["file-a.md"]},
                                  {"fact": "forty"}])
    b = briefing_of(sentence("It was ten.", [cite(A)]), sentence("It was twenty.", [cite(B)]))
    # "ten" cited to art-a: yes; "twenty" cited to art-b but art-a listed: no; "forty" absent: no
    assert key_fact_recall(case, b, {"file-a.md": {"art-a"}}) == pytest.approx(1 / 3)


def test_case_metrics_by_hand():
    kept = sentence("It was ten.", [cite(A)])
    dropped = sentence("Invented.", [Citation(key="zz-0", quote="x", valid=False)], action="dropped")
    case = EvalCase(id="c", kind="ask", query="how many", must_include=[{"fact": "ten"}], must_not_include=["surrender"])
    metrics = case_metrics(case, briefing_of(kept, dropped), TableJudge([{A.text}]), {}, latency=1.5)
    assert metrics["citation_coverage"] == 0.5  # 1 of 2 checked sentences had a valid citation
    assert (metrics["citation_recall"], metrics["citation_precision"], metrics["unsupported_rate"]) == (1.0, 1.0, 0.0)
    assert (metrics["key_fact_recall"], metrics["abstention_accuracy"], metrics["forbidden_free"]) == (1.0, 1.0, 1.0)
    assert metrics["latency_s"] == 1.5


def test_abstention_accuracy_both_ways():
    unanswerable = EvalCase(id="u", kind="ask", query="what did the pope say", unanswerable=True)
    judge = TableJudge([])
    assert case_metrics(unanswerable, briefing_of(abstained=True), judge, {}, 0)["abstention_accuracy"] == 1.0
    assert case_metrics(unanswerable, briefing_of(sentence("x", [cite(A)])), judge, {}, 0)["abstention_accuracy"] == 0.0


def test_bootstrap_interval():
    mean, low, high = bootstrap([0.0, 1.0] * 20)
    assert mean == 0.5 and 0.3 < low < 0.5 < high < 0.7
    assert bootstrap([0.8]) == (0.8, 0.8, 0.8)
    assert bootstrap([0.2, 0.4, 0.9]) == bootstrap([0.2, 0.4, 0.9])  # seeded


def fake_report(**means) -> EvalReport:
    return EvalReport(created_at=datetime(2024, 12, 1, tzinfo=UTC), commit=None, provider="extractive", model="none",
                      judge="lexical", settings={}, suites=[], actions={},
                      aggregate={k: Interval(mean=v, low=v, high=v, n=3) for k, v in means.items()})


def test_fail_under():
    report = fake_report(citation_recall=0.9, key_fact_recall=0.5)
    assert check_fail_under(report, ["citation_recall=0.8"]) == []
    assert check_fail_under(report, ["key_fact_recall=0.6", "citation_recall=0.95"]) == [
        "key_fact_recall = 0.500 < 0.600", "citation_recall = 0.900 < 0.950"]
    assert check_fail_under(report, ["abstention_accuracy=0.5"]) == ["abstention_accuracy: no case measured it"]
    with pytest.raises(BriefingError, match="--fail-under takes METRIC=VALUE"):
        check_fail_under(report, ["recall>0.5"])


# --- case files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case, message",
    [
        ({"id": "x", "kind": "brief"}, "cases.0.query: Field required"),
        ({"id": "x", "kind": "summary", "query": "abc"}, "cases.0.kind: Input should be 'brief' or 'ask'"),
        ({"id": "Bad Id", "kind": "ask", "query": "abc"}, "cases.0.id: String should match pattern"),
        ({"id": "x", "kind": "brief", "query": "abc", "unanswerable": True}, "unanswerable applies to ask cases only"),
        ({"id": "x", "kind": "ask", "query": "abc", "must_include": [{"fact": "(unclosed"}]}, "not a valid regex"),
        ({"id": "x", "kind": "ask", "query": "abc", "colour": "red"}, "cases.0.colour: Extra inputs are not permitted"),
    ],
)
def test_case_file_schema_errors_name_the_file_and_field(tmp_path, case, message):
    path = tmp_path / "suite.yaml"
    path.write_text(json.dumps({"suite": "s", "corpus": "c", "cases": [case]}))
    with pytest.raises(InputError) as info:
        load_suite(path)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)


def test_duplicate_case_ids(tmp_path):
    path = tmp_path / "suite.yaml"
    case = {"id": "same", "kind": "ask", "query": "abc"}
    path.write_text(json.dumps({"suite": "s", "corpus": "c", "cases": [case, case]}))
    with pytest.raises(InputError, match="duplicate case ids: same"):
        load_suite(path)


def test_shipped_suites_are_valid_and_large_enough():
    corpus = load_suite(ROOT / "evals" / "corpus-kursk.yaml")
    rss = load_suite(ROOT / "evals" / "rss-2024.yaml")
    for suite in (corpus, rss):
        assert len(suite.cases) >= 20
        assert any(c.unanswerable for c in suite.cases)
    assert any("evil-example" in c.must_not_include for c in corpus.cases)


# --- running -------------------------------------------------------------------------------------


def small_suite(folder: Path, corpus: str) -> Path:
    path = folder / "small.yaml"
    path.write_text(json.dumps({"suite": "small", "corpus": corpus, "corpus_env": "SMALL_CORPUS", "cases": [
        {"id": "troops", "kind": "brief", "query": "North Korean troops in Kursk",
         "must_include": [{"fact": "11,000 to 12,000", "articles": ["2024-11-05-pentagon-10000-kursk.md"]}]},
        {"id": "pope", "kind": "ask", "query": "What did the Pope say about Kursk?", "unanswerable": True},
    ]}))
    return path


def test_a_suite_whose_corpus_is_absent_is_skipped_with_a_message(tmp_path, fake_embedder):
    path = small_suite(tmp_path, "nowhere/items.jsonl")
    from briefing.settings import Settings

    report = run_suites(path, Components(Settings(), provider="extractive", embedder=fake_embedder), out_dir=tmp_path / "out")
    (run,) = report.suites
    assert run.skipped == f"corpus not found: {(tmp_path / 'nowhere/items.jsonl').resolve()} (set SMALL_CORPUS)"
    assert run.cases == [] and report.aggregate == {}


def test_run_saves_each_case_and_resumes(tmp_path, fake_embedder, monkeypatch):
    from briefing.settings import Settings

    monkeypatch.setenv("SMALL_CORPUS", str(CORPUS))
    path = small_suite(tmp_path, "unused")
    report = run_suites(path, Components(Settings(), provider="extractive", embedder=fake_embedder), out_dir=tmp_path / "out")
    saved = tmp_path / "out" / "cases" / "small" / "extractive" / "troops.json"
    assert saved.exists() and json.loads(saved.read_text())["case"]["id"] == "troops"
    assert report.aggregate["citation_recall"].mean == 1.0 and report.provider == "extractive"
    assert report.settings["openai_api_key"] is None  # masked as "set (hidden)" when a key is set
    calls = []
    monkeypatch.setattr("briefing.pipeline.run", lambda *a, **k: calls.append(a))
    again = run_suites(path, Components(Settings(), provider="extractive", embedder=fake_embedder), out_dir=tmp_path / "out")
    assert calls == [] and again.aggregate == report.aggregate


def test_cli_eval_suite_json_out_and_fail_under(tmp_path, monkeypatch):
    from tests.conftest import HashingEmbedder

    embedder = HashingEmbedder()
    monkeypatch.setattr("briefing.pipeline.make_embedder", lambda *args: embedder)
    monkeypatch.setenv("SMALL_CORPUS", str(CORPUS))
    path = small_suite(tmp_path, "unused")
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["eval", str(path), "--provider", "extractive", "--json", "--out", str(out),
                                      "--fail-under", "citation_recall=0.5"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["provider"] == "extractive" and {"mean", "low", "high", "n"} <= set(data["citation_recall"])
    assert (out / "report.json").exists() and "<img" in (out / "report.html").read_text()
    failing = CliRunner().invoke(app, ["eval", str(path), "--provider", "extractive", "--fail-under", "key_fact_recall=1.01"])
    assert failing.exit_code == 1 and "Error: below --fail-under: key_fact_recall" in failing.stderr


def test_answer_accuracy_needs_every_fact_with_its_article_and_no_abstention():
    judge = TableJudge([{A.text}, {B.text}])
    case = EvalCase(id="q", kind="ask", query="how many?", must_include=[{"fact": "ten", "articles": ["a.md"]}])
    ids = {"a.md": {"art-a"}}
    assert case_metrics(case, briefing_of(sentence("It was ten.", [cite(A)])), judge, ids, 0)["answer_accuracy"] == 1.0
    assert case_metrics(case, briefing_of(sentence("It was ten.", [cite(B)])), judge, ids, 0)["answer_accuracy"] == 0.0
    assert case_metrics(case, briefing_of(abstained=True), judge, ids, 0)["answer_accuracy"] == 0.0
    unanswerable = EvalCase(id="u", kind="ask", query="what did the pope say", unanswerable=True)
    assert case_metrics(unanswerable, briefing_of(abstained=True), judge, {}, 0)["answer_accuracy"] is None


def test_citations_are_scored_by_a_second_judge_beside_the_verifier():
    # The verifier (a TableJudge fake) kept both sentences; the scorer (another fake) supports only
    # the first, so citation recall falls to 0.5 while the verifier's own recall stays 1.0.
    first, second = sentence("It was ten.", [cite(A)]), sentence("It was twenty.", [cite(B)])
    verifier, scorer = TableJudge([{A.text}, {B.text}]), TableJudge([{A.text}])
    case = EvalCase(id="c", kind="brief", query="numbers")
    metrics = case_metrics(case, briefing_of(first, second), scorer, {}, latency=0.1, verifier=verifier)
    assert metrics["citation_recall"] == 0.5 and metrics["unsupported_rate"] == 0.5
    assert metrics["verifier_citation_recall"] == 1.0 and metrics["judge_agreement"] == 0.5
