"""Check the blind question sets tuning.yaml, holdout.yaml and tuning-2.yaml against the RSS items.

    python evals/questions/check.py

Checks: the corpus path (relative to each YAML file, or $BRIEFING_RSS_ITEMS) resolves;
case ids are unique across both files and carry a known kind prefix; no since/until/
publishers fields; answerable cases have facts whose regex compiles and matches the
title+text of every listed item, and every listed id exists; two- cases have two facts;
hl- regexes match no item's text (the fact is headline-only); when- cases list only items
published inside the day/month named in the question (day questions: not within 3 hours of
midnight UTC); near- cases are unanswerable with no must_include, and their probe regexes
(below) match no item. Exits 1 on any error; prints per-kind counts.
"""
from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
FILES = ["tuning.yaml", "holdout.yaml", "tuning-2.yaml"]
KINDS = ["latest", "unit", "who", "date", "two", "hl", "para", "when", "near"]
ALLOWED = {"id", "kind", "query", "unanswerable", "must_include", "must_not_include"}
MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august",
     "september", "october", "november", "december"], 1)}

# near- probes: each (regex, month or None). A probe must match no item's title+text
# (restricted to items published in that month when a month is given). They encode
# "the thing the question asks about is not stated anywhere".
NEAR_PROBES = {
    "near-radakin-november-daily-losses": [(r"november.{0,100}(a|per) day|(a|per) day.{0,40}in november", None),
                                           (r"radakin.{0,200}november|november.{0,200}radakin", None)],
    "near-leningrad-drones-downed": [(r"leningrad|petersburg", None)],
    "near-lenfilm-tanks": [(r"lenfilm", None), (r"\btanks\b", None)],  # only Mosfilm's title
    "near-key-rate-december": [(r"key rate|interest rate|central bank", 12), (r"key rate|interest rate", 11)],
    "near-nk-pays-russia": [(r"north korea\w* (will )?pa(y|ys|id|ying)", None), (r"pyongyang (will )?pa(y|ys|id|ying)", None)],
    "near-pentagon-russian-troops-kursk": [(r"pentagon.{0,200}russian (troops|forces|soldiers)", None)],
    "near-moscow-flights-cancelled": [(r"flights?.{0,80}\b\d+|\d+ flights|cancel\w*.{0,40}flight", None)],
    "near-trump-warns-zelensky": [(r"trump.{0,60}(told|warn\w*) zelensk", None), (r"zelensk\w*.{0,40}not to", None)],
    "near-macron-putin-call-nk": [(r"macron.{0,80}(putin|call|north korea)", None)],
    "near-navy-signing-bonus": [(r"navy.{0,80}bonus|bonus.{0,80}navy", None), (r"naval recruit", None)],
    "near-kim-moscow-zoo": [(r"moscow zoo|russian zoo", None), (r"kim.{0,60}zoo", None)],
    "near-pow-swap-december": [(r"swap|exchange[sd]? \d", 12), (r"\bPOWs?\b.{0,40}(swap|exchang)", 12)],
    "near-zelensky-mar-a-lago": [(r"zelensk\w*.{0,120}mar-a-lago|mar-a-lago.{0,120}zelensk", None)],
    "near-eu-shadow-fleet-ships": [(r"(eu|european union).{0,120}shadow fleet|shadow fleet.{0,120}(\beu\b|european union)", None)],
    "near-lavrov-nuclear-war-remark": [(r"lavrov (said|told|warned).{0,80}nuclear", None)],
    "near-bombers-near-hawaii": [(r"hawaii", None)],
    # tuning-2.yaml (the second blind set)
    "near-tokyo-summons-russian-ambassador": [(r"tokyo|japan", None)],
    "near-italian-chemicals-firm": [(r"\bital(y|ian)", None)],
    "near-swedish-court-naftogaz-assets": [(r"swed\w*.{0,300}(court|naftogaz|confiscat|assets)", None),
                                           (r"(naftogaz|confiscat).{0,300}swed", None)],
    "near-warship-drills-baltic": [(r"baltic", None)],
    "near-nk-defence-minister-moscow": [(r"north korean defen[cs]e minister|pyongyang.s defen[cs]e minister", None),
                                        (r"defen[cs]e minister.{0,40}(in|to|visit\w*) (moscow|russia)", None)],
    "near-volodin-ukraine-talks": [(r"volodin|\bduma\b", None)],
    "near-latvian-politician-spying": [(r"latvia", None)],
    "near-icc-judge-october": [(r"\bICC\b|international criminal court|\bjudges?\b", 10)],
    "near-russia-mongolia-rail": [(r"mongolia", None)],
    "near-ukraine-returns-bodies-to-russia": [
        (r"ukrain\w* (returned|returns|handed|hands|repatriated).{0,60}(bodies|russian)", None),
        (r"(returned|handed over|repatriated|transferred) to russia", None),
        (r"bodies of (killed )?russian|russian (soldiers.? )?bodies", None)],
    "near-hungary-energy-emergency": [(r"hungar\w*.{0,200}emergenc|emergenc.{0,200}hungar", None)],
    "near-macron-kyiv-visit-december": [(r"macron.{0,150}kyiv|kyiv.{0,150}macron", None), (r"macron", 12)],
    "near-antipersonnel-mines-count": [(r"\d[\d,.]*\s*(thousand |million )?(antipersonnel |anti-personnel )?(land ?)?mines", None)],
}
# The one item whose title mentions tanks (Mosfilm); allowed for the tanks probe.
NEAR_ALLOW = {("near-lenfilm-tanks", r"\btanks\b"): {"74fd77b785f1"}}


def load_items(path: Path) -> dict[str, dict]:
    items = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                it = json.loads(line)
                items[it["id"]] = it
    return items


def when_window(query: str):
    """(start, end, is_day) in UTC for the day or month named in the query, or None."""
    q = query.lower()
    mnames = "|".join(MONTHS)
    m = re.search(rf"\b(\d{{1,2}}) ({mnames})\b", q) or re.search(rf"\b({mnames}) (\d{{1,2}})\b", q)
    if m:
        a, b = m.groups()
        day, month = (int(a), MONTHS[b]) if a.isdigit() else (int(b), MONTHS[a])
        start = datetime(2024, month, day)
        return start, start + timedelta(days=1), True
    m = re.search(rf"\bin ({mnames})\b", q)
    if m:
        month = MONTHS[m.group(1)]
        start = datetime(2024, month, 1)
        end = datetime(2025, 1, 1) if month == 12 else datetime(2024, month + 1, 1)
        return start, end, False
    return None


def published(it) -> datetime:
    """Publication time as a naive UTC datetime."""
    return datetime.fromisoformat(it["published"].replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def main() -> int:
    errors: list[str] = []
    notes: list[str] = []
    seen: dict[str, str] = {}
    counts: dict[str, Counter] = {}
    items = None
    for name in FILES:
        path = HERE / name
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key in ("suite", "description", "corpus", "cases"):
            if key not in doc:
                errors.append(f"{name}: missing top-level {key}")
        corpus = (path.parent / doc["corpus"]).resolve()
        env = os.environ.get(doc.get("corpus_env", ""), "")
        if not corpus.exists():
            errors.append(f"{name}: corpus {doc['corpus']} resolves to {corpus}, which does not exist")
        src = Path(env) if env else corpus
        print(f"{name}: suite={doc['suite']} corpus -> {corpus} (exists: {corpus.exists()})")
        if items is None:
            items = load_items(src)
        texts = {i: (it["title"] + "\n" + it["text"]) for i, it in items.items()}
        cnt = counts.setdefault(name, Counter())
        for n, case in enumerate(doc["cases"]):
            cid = case.get("id", f"<case {n}>")
            where = f"{name}:{cid}"
            extra = set(case) - ALLOWED
            if extra:
                errors.append(f"{where}: fields not allowed here: {sorted(extra)}")
            if cid in seen:
                errors.append(f"{where}: duplicate id (also in {seen[cid]})")
            seen[cid] = name
            kind = cid.split("-", 1)[0]
            if kind not in KINDS:
                errors.append(f"{where}: unknown kind prefix {kind!r}")
            cnt[kind] += 1
            if case.get("kind") != "ask" or not case.get("query"):
                errors.append(f"{where}: needs kind: ask and a query")
            for pat in case.get("must_not_include", []) or []:
                try:
                    re.compile(pat, re.I)
                except re.error as e:
                    errors.append(f"{where}: bad must_not_include regex {pat!r}: {e}")
            if kind == "near":
                if not case.get("unanswerable") or case.get("must_include"):
                    errors.append(f"{where}: near- case must be unanswerable with no must_include")
                probes = NEAR_PROBES.get(cid)
                if not probes:
                    errors.append(f"{where}: no probe regexes in check.py")
                for pat, month in probes or []:
                    allow = NEAR_ALLOW.get((cid, pat), set())
                    for iid, it in items.items():
                        if month and published(it).month != month:
                            continue
                        if iid not in allow and re.search(pat, texts[iid], re.I | re.S):
                            errors.append(f"{where}: SUSPICIOUS probe {pat!r} matches item {iid}: {it['title']}")
                continue
            if case.get("unanswerable"):
                errors.append(f"{where}: only near- cases are unanswerable in this set")
            facts = case.get("must_include") or []
            if not facts:
                errors.append(f"{where}: answerable case without must_include")
            if kind == "two" and len(facts) != 2:
                errors.append(f"{where}: two- case needs exactly two facts, has {len(facts)}")
            window = when_window(case["query"]) if kind == "when" else None
            if kind == "when" and window is None:
                errors.append(f"{where}: when- query names no day or month")
            for fact in facts:
                pat = fact["fact"]
                try:
                    rx = re.compile(pat, re.I)
                except re.error as e:
                    errors.append(f"{where}: bad regex {pat!r}: {e}")
                    continue
                arts = fact.get("articles") or []
                if not arts:
                    errors.append(f"{where}: fact {pat!r} lists no articles")
                for a in arts:
                    if a not in items:
                        errors.append(f"{where}: listed id {a} does not exist")
                        continue
                    if not rx.search(texts[a]):
                        errors.append(f"{where}: regex {pat!r} does not match item {a}")
                    if window:
                        start, end, is_day = window
                        t = published(items[a])
                        if not (start <= t < end):
                            errors.append(f"{where}: item {a} published {t} outside {start:%Y-%m-%d}..{end:%Y-%m-%d}")
                        if is_day and (t - start < timedelta(hours=3) or end - t < timedelta(hours=3)):
                            errors.append(f"{where}: item {a} published within 3h of midnight ({t})")
                if kind == "hl":
                    for iid, it in items.items():
                        if rx.search(it["text"]):
                            errors.append(f"{where}: hl- regex {pat!r} matches the TEXT of item {iid}")
                if kind in ("latest", "when"):
                    others = [i for i in items if i not in arts and rx.search(texts[i])]
                    if others:
                        notes.append(f"{where}: regex {pat!r} also matches unlisted {others[:6]}"
                                     f"{' ...' if len(others) > 6 else ''} (older/out-of-window: review)")
    for name, cnt in counts.items():
        print(f"{name}: {sum(cnt.values())} cases: " + ", ".join(f"{k}-={cnt[k]}" for k in KINDS))
    for n in notes:
        print("note:", n)
    for e in errors:
        print("ERROR:", e)
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
