"""The verification stress suite: does `brief` keep fair paraphrases and catch subtle errors?

A scripted OpenAI-compatible server on loopback (``tests/fake_openai.py``) plays a fluent model.
For each case it drafts a brief whose one sentence is the case's claim, citing the evidence block
that holds the case's evidence, with that evidence as the quote. Repair requests get the same
sentence back (a stubborn model), so a sentence the judge rejects ends replaced or dropped.
Everything else is the real ``write_brief`` path: retrieval over the ingested corpus, the quote
check, the judge, the repair loop.

Cases (``cases.yaml``, written blind by a helper who had not seen the code, from ``corpus/`` and
the RSS items) are fair paraphrases or sentences with one error of ten kinds. Half of each kind is
the frozen ``holdout``: no word list, rule or threshold was chosen by looking at it. Cases over
the RSS items name the item and field (title or text) and read the evidence from
``../shared/data/news-rss-2024/items.jsonl`` (or ``BRIEFING_RSS_ITEMS``); without it they are
skipped and the report says so.

    .venv/bin/python evals/verification/run.py [--half tuning|holdout|both] [--judges trained lexical]
        [--cases FILE] [--json OUT.json] [--verbose]

Reported per judge and half: fair paraphrases kept (not repaired, replaced or dropped), wrong
sentences caught (anything but kept), by kind, the seconds taken, and cases whose quote did not
resolve (a harness problem, not the judge's). Needs no network and no key.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases.yaml"
CORPUS = ROOT / "corpus"
RSS_ITEMS = ROOT.parent / "shared" / "data" / "news-rss-2024" / "items.jsonl"
BLOCK = re.compile(r"^\[([^\]]+)\] [^\n]*?: ([^\n]*)\n(.*?)(?=\n\n\[[^\]]+\] |\Z)", re.S | re.M)
KINDS = ("fair", "number", "scale", "date", "entity", "role", "negation", "hedge", "tense", "quantifier", "cause")


def rss_items() -> dict[str, dict]:
    path = Path(os.environ.get("BRIEFING_RSS_ITEMS", RSS_ITEMS))
    if not path.exists():
        return {}
    return {item["id"]: item for item in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if item}


def load_cases(path: Path, items: dict[str, dict]) -> tuple[list[dict], int]:
    """Cases with their ``evidence`` filled in (from the items for RSS cases), and how many RSS
    cases were skipped because the items are not here."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = data["cases"] if isinstance(data, dict) else data
    out, skipped = [], 0
    for case in cases:
        if "item" in case:
            item = items.get(case["item"])
            if item is None:
                skipped += 1
                continue
            case = {**case, "evidence": item[case.get("field", "text")], "title": item["title"]}
        out.append(case)
    return out, skipped


def article_titles() -> dict[str, str]:
    from briefing.ingest.loaders import load_file

    return {path.name: load_file(path).articles[0].title for path in sorted(CORPUS.glob("*.md")) if path.name != "README.md"}


class FluentWriter:
    """Drafts the current case: its claim as the one sentence, citing the block that shows the
    evidence (or, failing that, the block of the case's article)."""

    def __init__(self, titles: dict[str, str]):
        from briefing.answer.prompting import render_prompt

        self.titles = titles
        self.repair_system = render_prompt("repair_system").strip()
        self.case: dict = {}

    def respond(self, messages: list[dict]) -> str:
        user = next((m["content"] for m in messages if m["role"] == "user"), "")
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        key = self._key(user)
        citation = [{"key": key, "quote": self.case["evidence"]}] if key else []
        if system.strip() == self.repair_system:
            return json.dumps({"text": self.case["claim"], "citations": citation})
        # The headline is the evidence itself, which any judge keeps; the claim is the sentence under test.
        return json.dumps({
            "headline": {"text": self.case["evidence"], "citations": citation},
            "sentences": [{"section": "Key developments", "text": self.case["claim"], "citations": citation}],
        })

    def _key(self, prompt: str) -> str | None:
        blocks = [(m.group(1), m.group(2), m.group(3)) for m in BLOCK.finditer(prompt)]
        first = self.case["evidence"][:60]
        for key, _title, text in blocks:
            if first in text:
                return key
        title = self.case.get("title") or self.titles.get(self.case.get("article", ""), "")
        return next((key for key, t, _ in blocks if t.strip() == title.strip()), None)


def outcome(briefing, claim: str):
    for sentence in briefing.sentences():
        if claim in (sentence.original, sentence.text):
            return sentence
    return None


def run(judges: list[str], cases: list[dict], verbose: bool = False) -> dict:
    from briefing.ingest import ingest
    from briefing.pipeline import Components, write_brief
    from briefing.settings import Settings
    from tests.fake_openai import FakeOpenAI, Respond

    writer = FluentWriter(article_titles())
    server = FakeOpenAI().start()
    server.script = [Respond(writer.respond)]
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), provider="openai", openai_base_url=server.base_url,
                            openai_api_key="sk-scripted", llm_cache=False, chroma_host=None)
        paths = [CORPUS] + ([Path(os.environ.get("BRIEFING_RSS_ITEMS", RSS_ITEMS))] if any("item" in c for c in cases) else [])
        ingest(paths, Components(settings))
        for judge in judges:
            tally: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
            misses = []
            started = time.perf_counter()
            for case in cases:
                writer.case = case
                briefing = write_brief(case["claim"], Components(settings, judge=judge))
                sentence = outcome(briefing, case["claim"])
                kind, half = case["kind"], case.get("half", "all")
                unquoted = sentence is not None and sentence.action != "kept" and any(
                    word in sentence.verdict.reason.lower() for word in ("quote", "no citation"))
                if sentence is None or unquoted:  # the scripted model could not cite the evidence: not the judge's doing
                    tally[half][kind]["harness"] += 1
                    continue
                good = sentence.action == "kept" if kind == "fair" else sentence.action != "kept"
                tally[half][kind]["right" if good else "wrong"] += 1
                if not good:
                    misses.append({"id": case["id"], "half": half, "kind": kind, "action": sentence.action,
                                   "reason": sentence.verdict.reason, "claim": case["claim"]})
            results[judge] = {"halves": {h: {k: dict(v) for k, v in t.items()} for h, t in tally.items()}, "misses": misses,
                              "seconds": round(time.perf_counter() - started, 1), "cases": len(cases)}
    server.stop()
    return results


def share(counts: dict) -> str:
    n = counts.get("right", 0) + counts.get("wrong", 0)
    return f"{counts.get('right', 0)}/{n} ({counts.get('right', 0) / n:.0%})" if n else "–"


def print_report(results: dict, verbose: bool) -> None:
    wrong_kinds = [k for k in KINDS if k != "fair"]
    for half in ("tuning", "holdout", "all"):
        rows = [(judge, r["halves"][half]) for judge, r in results.items() if half in r["halves"]]
        if not rows:
            continue
        print(f"\n{half} half" if half != "all" else "\nall cases")
        print("| judge | fair kept | wrong caught | " + " | ".join(wrong_kinds) + " | harness |")
        print("|---|---|---|" + "---|" * len(wrong_kinds) + "---|")
        for judge, tally in rows:
            wrong: Counter = Counter()
            for kind in wrong_kinds:
                wrong.update(tally.get(kind, {}))
            cells = [f"{tally.get(k, {}).get('right', 0)}/{tally.get(k, {}).get('right', 0) + tally.get(k, {}).get('wrong', 0)}"
                     for k in wrong_kinds]
            harness = sum(c.get("harness", 0) for c in tally.values())
            print(f"| {judge} | {share(tally.get('fair', {}))} | {share(wrong)} | " + " | ".join(cells) + f" | {harness} |")
    for judge, r in results.items():
        print(f"{judge}: {r['cases']} cases in {r['seconds']} s")
        if verbose:
            for miss in r["misses"]:
                print(f"  {judge} missed {miss['id']} ({miss['half']}, {miss['kind']}): {miss['action']} — {miss['reason'][:120]}")


def main() -> None:
    from briefing.embedding.cpu import cpu_info

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--judges", nargs="+", default=["trained", "lexical"])
    parser.add_argument("--half", choices=["tuning", "holdout", "both"], default="both")
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--verbose", action="store_true", help="list every miss with the judge's reason")
    args = parser.parse_args()
    print(f"CPU: {cpu_info().describe()}")
    cases, skipped = load_cases(args.cases, rss_items())
    if args.half != "both":
        cases = [c for c in cases if c.get("half", args.half) == args.half]
    if skipped:
        print(f"{skipped} cases over the RSS items skipped: {RSS_ITEMS} is not here (set BRIEFING_RSS_ITEMS)")
    results = run(args.judges, cases, args.verbose)
    print_report(results, args.verbose)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
