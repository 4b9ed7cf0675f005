"""Benchmark: what verification costs per brief, offline and with the model-backed judge.

- The checks of meaning alone (``checks.claim_problems``), in claims per second, cold and warm.
- The offline judge as shipped (`trained`: checks, then the cross-encoder and its stack), model
  loaded once, in claims per second: on the throughput bench's mix (source sentences, a third
  with a changed figure) and on the same claims reworded, so that none is word for word.
- Verifying a 15-sentence brief offline: a draft of 15 corpus sentences (every third with a
  changed figure, the others without their articles, so none is word for word) citing their chunks, through ``Verifier.verify`` with
  the trained judge; median of 5 runs, seconds. Baseline in the same run: the lexical judge.
- The model-backed judge's cost per brief: its one batched call for the same 15 sentences. The
  prompt is counted in MiniLM WordPiece tokens (a proxy: no OpenAI tokenizer is installed here),
  with how many sentences the checks settled without the model.

    .venv/bin/python -m bench.verify_cost
"""

from __future__ import annotations

import os
import re
import statistics
import time
from pathlib import Path

from briefing.embedding.cpu import cpu_info

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SENTENCES = 15


def corpus_evidence():
    from briefing.ingest.loaders import load_file
    from briefing.models import Evidence
    from briefing.text import chunk_spans, clean

    out = []
    for path in sorted(CORPUS.glob("*.md")):
        if path.name == "README.md":
            continue
        article = load_file(path).articles[0]
        text = clean(article.text)
        for n, (start, end) in enumerate(chunk_spans(text)):
            out.append(Evidence(key=f"{path.stem[:12]}-{n}", article_id=path.stem, title=article.title, publisher="sample",
                                text=text[start:end], start=start, score=1.0))
    return out


def draft(evidence, size: int = SENTENCES):
    from briefing.models import Draft, DraftCitation, DraftSentence
    from briefing.text import split_sentences

    sentences = []
    for chunk in evidence:
        for sentence in split_sentences(chunk.text)[:2]:
            if len(sentences) == size:
                break
            # every third with a changed figure; the rest reworded (articles dropped), so none is word for word
            text = re.sub(r"\d+", "7", sentence) if len(sentences) % 3 == 0 else re.sub(r"\b(the|a|an) ", "", sentence)
            sentences.append(DraftSentence(section="Key developments", text=text,
                                           citations=[DraftCitation(key=chunk.key, quote=sentence)]))
    headline = sentences[0].model_copy()
    return Draft(headline=headline, sentences=sentences[1:])


def claims_per_second(judge, pairs) -> float:
    started = time.perf_counter()
    for claim, source in pairs:
        judge(claim, [source])
    return len(pairs) / (time.perf_counter() - started)


def verify_seconds(judge, evidence, runs: int = 5) -> float:
    from briefing.answer.verify import Verifier

    times = []
    for _ in range(runs):
        brief = draft(evidence)
        started = time.perf_counter()
        Verifier(evidence, judge, repairer=None).verify(brief)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def judge_prompt_tokens(evidence) -> tuple[int, int, int]:
    """(prompt tokens, sentences sent to the model, sentences settled by the checks)."""
    from briefing.answer.cross_encoder import count_tokens
    from briefing.answer.judge import ModelBackedJudge
    from briefing.answer.verify import Verifier

    sent: list[str] = []

    class Counting:
        provider, model = "openai", "counted"

        def generate(self, messages, schema):
            sent.append("\n".join(text for _, text in messages))
            n = len(re.findall(r"^Claim \d+:", sent[-1], re.M))
            return schema.model_validate({"verdicts": [{"id": i, "supported": True, "unsupported_part": "", "reason": "ok"}
                                                       for i in range(1, n + 1)]})

    judge = ModelBackedJudge(Counting())
    brief = draft(evidence)
    Verifier(evidence, judge, repairer=None).verify(brief)
    asked = sum(len(re.findall(r"^Claim \d+:", s, re.M)) for s in sent)
    return sum(count_tokens(sent)), asked, SENTENCES - asked


def main() -> None:
    from bench.judge_throughput import pairs
    from briefing.answer.checks import claim_problems, read
    from briefing.answer.cross_encoder import TrainedJudge
    from briefing.answer.judge import LexicalJudge

    print(f"CPU: {cpu_info().describe()}")
    data = pairs(1500)
    unique = list(dict.fromkeys(data))
    read.cache_clear()
    cold = claims_per_second(claim_problems, unique)
    warm = claims_per_second(claim_problems, data)
    trained = TrainedJudge(threads=os.cpu_count())
    trained.judge("warm up", ["warm up the model once"])
    shipped = claims_per_second(trained.judge, data[:600])
    # Reworded (articles dropped): no claim is word for word, so every one the checks pass reaches the model.
    reworded = [(re.sub(r"\b(the|a|an) ", "", claim), source) for claim, source in data[:600]]
    through_model = claims_per_second(trained.judge, reworded)
    lexical = claims_per_second(LexicalJudge().judge, data[:600])
    evidence = corpus_evidence()
    offline = verify_seconds(trained, evidence)
    baseline = verify_seconds(LexicalJudge(), evidence)
    tokens, asked, settled = judge_prompt_tokens(evidence)
    print(f"pairs: {len(data)} ({len(unique)} distinct, from corpus/); onnxruntime threads: {os.cpu_count()}")
    print(f"checks of meaning, cold     : {cold:7.0f} claims/s")
    print(f"checks of meaning, warm     : {warm:7.0f} claims/s")
    print(f"trained judge (offline)     : {shipped:7.0f} claims/s on the mix (lexical judge {lexical:.0f}/s: {shipped / lexical:.2f}x)")
    print(f"trained judge, reworded     : {through_model:7.0f} claims/s (none word for word: the checks, then the model)")
    print(f"verify a {SENTENCES}-sentence brief  : {offline:7.3f} s offline with `trained` "
          f"(lexical judge {baseline:.3f} s: {offline / baseline:.1f}x)")
    print(f"model-backed judge per brief: 1 call, {tokens} prompt tokens (MiniLM WordPiece), {asked} sentences asked, "
          f"{settled} settled by the checks or word for word")


if __name__ == "__main__":
    main()
