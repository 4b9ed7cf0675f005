"""Paraphrase stress suite: does verification keep fair paraphrases and catch subtle errors?

A scripted OpenAI-compatible server on loopback (``tests/fake_openai.py``, the one the
provider-fault tests use, answering through a function that reads the prompt) plays a fluent model. For each case of
``bench/paraphrase_cases.yaml`` (written from corpus/ by a helper who had not seen the code: fair
paraphrases, and sentences with one error of number, scale, date, entity, role, negation, a hedge
dropped or a cause added) it drafts a brief whose one sentence is the case's claim, citing the
evidence block that holds the case's source sentence, with that sentence as the quote. Repair
requests get the same sentence back (a stubborn model), so a sentence the judge rejects ends
replaced or dropped. Everything else is the real ``write_brief`` path: retrieval over the ingested
corpus, the quote check, the judge, the repair loop.

    .venv/bin/python -m bench.paraphrase [--judges lexical trained]

Reported per judge: fair paraphrases kept (not repaired, replaced or dropped), wrong sentences
caught (anything but kept), by kind, and cases whose quote did not resolve (a harness problem,
not the judge's). Needs no network and no key.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml

from briefing.embedding.cpu import cpu_info

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "bench" / "paraphrase_cases.yaml"
CORPUS = ROOT / "corpus"
BLOCK = re.compile(r"^\[([^\]]+)\] [^\n]*?: ([^\n]*)\n(.*?)(?=\n\n\[[^\]]+\] |\Z)", re.S | re.M)


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
        title = self.titles[self.case["article"]]
        return next((key for key, t, _ in blocks if t.strip() == title.strip()), None)


def outcome(briefing, claim: str):
    for sentence in briefing.sentences():
        if claim in (sentence.original, sentence.text):
            return sentence
    return None


def run(judges: list[str], cases_path: Path = CASES) -> dict:
    from briefing.ingest import ingest
    from briefing.pipeline import Components, write_brief
    from briefing.settings import Settings

    cases = yaml.safe_load(cases_path.read_text(encoding="utf-8"))
    from tests.fake_openai import FakeOpenAI, Respond

    writer = FluentWriter(article_titles())
    server = FakeOpenAI().start()
    server.script = [Respond(writer.respond)]
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), provider="openai", openai_base_url=server.base_url,
                            openai_api_key="sk-scripted", llm_cache=False, chroma_host=None)
        ingest([CORPUS], Components(settings))
        for judge in judges:
            tally: dict[str, Counter] = defaultdict(Counter)
            misses = []
            started = time.perf_counter()
            for case in cases:
                writer.case = case
                briefing = write_brief(case["claim"], Components(settings, judge=judge))
                sentence = outcome(briefing, case["claim"])
                kind = case["kind"]
                if sentence is None or (sentence.action != "kept" and "quote" in sentence.verdict.reason.lower()):
                    tally[kind]["harness"] += 1
                    continue
                good = sentence.action == "kept" if kind == "fair" else sentence.action != "kept"
                tally[kind]["right" if good else "wrong"] += 1
                if not good:
                    misses.append({"id": case["id"], "kind": kind, "action": sentence.action, "reason": sentence.verdict.reason})
            results[judge] = {"by_kind": {k: dict(v) for k, v in tally.items()}, "misses": misses,
                              "seconds": round(time.perf_counter() - started, 1)}
    server.stop()
    return results


def summary(tally: dict[str, dict]) -> tuple[str, str]:
    fair = tally.get("fair", {})
    wrong = Counter()
    for kind, counts in tally.items():
        if kind != "fair":
            wrong.update(counts)

    def share(c):
        n = c.get("right", 0) + c.get("wrong", 0)
        return f"{c.get('right', 0)}/{n} ({c.get('right', 0) / n:.0%})" if n else "–"
    return share(fair), share(wrong)


def print_report(results: dict) -> None:
    kinds = sorted({k for r in results.values() for k in r["by_kind"]}, key=lambda k: (k != "fair", k))
    print("| judge | fair kept | wrong caught | " + " | ".join(k for k in kinds if k != "fair") + " | harness misses |")
    print("|---|---|---|" + "---|" * (len(kinds) - 1) + "---|")
    for judge, r in results.items():
        kept, caught = summary(r["by_kind"])
        cells = []
        for kind in kinds:
            if kind == "fair":
                continue
            c = r["by_kind"].get(kind, {})
            cells.append(f"{c.get('right', 0)}/{c.get('right', 0) + c.get('wrong', 0)}")
        harness = sum(c.get("harness", 0) for c in r["by_kind"].values())
        print(f"| {judge} | {kept} | {caught} | " + " | ".join(cells) + f" | {harness} |")
    for judge, r in results.items():
        for miss in r["misses"]:
            print(f"  {judge} missed {miss['id']} ({miss['kind']}): {miss['action']} — {miss['reason'][:110]}")


def main() -> None:
    print(f"CPU: {cpu_info().describe()}")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--judges", nargs="+", default=["lexical", "trained"])
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    results = run(args.judges)
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
