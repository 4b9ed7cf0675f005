"""Sanity checks for evals/verification/cases.yaml.

Checks: ids unique; fields present; corpus evidence is an exact substring of the
article body (not the front matter); RSS item exists and the field is non-empty;
RSS claims copy no run of 6+ words from the item; `strong` fair claims share under
half of their content words with the evidence (crude stemmer); counts per kind x
half meet the suite's minimums. Prints the counts.

Usage: python3 evals/verification/check_cases.py [cases.yaml] [items.jsonl]
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "corpus"
CASES = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "cases.yaml"
ITEMS = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("/work/shared/data/news-rss-2024/items.jsonl")

WRONG = ["number", "scale", "date", "entity", "role", "negation", "hedge", "tense", "quantifier", "cause"]
STOP = set("""a an the and or but if of to in on at by for with from into onto over under as is are was were be been being
has have had do does did this that these those it its it's they them their there here he him his she her we our you your i me my
not no nor so than then too very can could may might will would shall should must also just only about after before again against
all any both each few more most other some such own same s t up down out off once further while during through until between above
below what which who whom whose when where why how per via amid upon within without""".split())
DEMONYM = {"russian": "russia", "ukrainian": "ukraine", "korean": "korea", "american": "america", "european": "europe",
           "british": "britain", "french": "france", "german": "germany", "koreans": "korea", "russians": "russia",
           "ukrainians": "ukraine", "finnish": "finland", "chinese": "china", "polish": "poland"}


def toks(s):
    s = s.replace("\u2019", "'").replace("\u2018", "'")
    s = re.sub(r"(\d),(\d)", r"\1\2", s)
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", s.lower())


def stem(w):
    w = re.sub(r"'s$", "", w)
    w = DEMONYM.get(w, w)
    for suf in ("ations", "ation", "ments", "ment", "ians", "ian", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly", "e"):
        if len(w) > len(suf) + 3 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def content(s):
    return {stem(t) for t in toks(s) if t not in STOP}


def overlap(claim, evidence):
    c, e = content(claim), content(evidence)
    return len(c & e) / max(1, len(c))


def longest_copied_run(claim, source):
    ct, st = toks(claim), toks(source)
    best = 0
    for n in range(1, len(ct) + 1):
        grams = {tuple(st[i:i + n]) for i in range(len(st) - n + 1)}
        if any(tuple(ct[i:i + n]) in grams for i in range(len(ct) - n + 1)):
            best = n
        else:
            break
    return best


def body(path):
    text = path.read_text(encoding="utf-8")
    if text.startswith("---"):
        text = text.split("---", 2)[2]
    return text


def main():
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]
    items = {}
    for line in ITEMS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            it = json.loads(line)
            items[it["id"]] = it
    errors = []
    ids = Counter(c["id"] for c in cases)
    errors += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    for c in cases:
        cid = c["id"]
        if c["kind"] not in ["fair", *WRONG]:
            errors.append(f"{cid}: bad kind {c['kind']}")
        if c.get("half") not in ("tuning", "holdout"):
            errors.append(f"{cid}: bad half")
        if c["kind"] == "fair" and not isinstance(c.get("strong"), bool):
            errors.append(f"{cid}: fair case needs strong: true|false")
        if c["kind"] != "fair" and "strong" in c:
            errors.append(f"{cid}: strong only on fair cases")
        if not c.get("claim") or not c.get("error"):
            errors.append(f"{cid}: missing claim or error")
        if cid.startswith("c-"):
            art = CORPUS / c["article"]
            if not art.exists():
                errors.append(f"{cid}: no article {c['article']}")
                continue
            ev = c["evidence"]
            if ev not in body(art):
                errors.append(f"{cid}: evidence not an exact substring of {c['article']}")
        elif cid.startswith("r-"):
            it = items.get(c["item"])
            if it is None:
                errors.append(f"{cid}: unknown item {c['item']}")
                continue
            if c["field"] not in ("title", "text") or not (it.get(c["field"]) or "").strip():
                errors.append(f"{cid}: field {c['field']} empty or invalid")
                continue
            ev = it[c["field"]]
            run = max(longest_copied_run(c["claim"], it["title"]), longest_copied_run(c["claim"], it["text"]))
            if run >= 6:
                errors.append(f"{cid}: claim copies {run} consecutive words from the item")
        else:
            errors.append(f"{cid}: id must start with c- or r-")
            continue
        if c["kind"] == "fair" and c.get("strong") and overlap(c["claim"], ev) >= 0.5:
            errors.append(f"{cid}: marked strong but shares >= half its content words with the evidence")

    by = Counter((c["kind"], c["half"]) for c in cases)
    kinds = Counter(c["kind"] for c in cases)
    src = Counter(c["id"][0] for c in cases)
    strong = Counter(c["half"] for c in cases if c["kind"] == "fair" and c.get("strong"))
    print(f"{'kind':<11} {'tuning':>6} {'holdout':>7} {'total':>5}")
    for k in ["fair", *WRONG]:
        print(f"{k:<11} {by[(k, 'tuning')]:>6} {by[(k, 'holdout')]:>7} {kinds[k]:>5}")
    wrong_total = sum(kinds[k] for k in WRONG)
    print(f"total {len(cases)}  fair {kinds['fair']}  wrong {wrong_total}")
    print(f"strong fair {sum(strong.values())} (tuning {strong['tuning']}, holdout {strong['holdout']})")
    print(f"corpus {src['c']} ({src['c'] / len(cases):.0%})  rss {src['r']} ({src['r'] / len(cases):.0%})")

    if kinds["fair"] < 110:
        errors.append("fewer than 110 fair cases")
    if wrong_total < 110:
        errors.append("fewer than 110 wrong cases")
    if sum(strong.values()) < 45:
        errors.append("fewer than 45 strong fair cases")
    for k in ["fair", *WRONG]:
        if k != "fair" and kinds[k] < 11:
            errors.append(f"fewer than 11 {k} cases")
        if abs(by[(k, "tuning")] - by[(k, "holdout")]) > 1:
            errors.append(f"{k}: halves unbalanced")
    if errors:
        print("\nERRORS:")
        for e in errors:
            print("  " + e)
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
