# One-command entry points. Each installs into .venv from scratch when needed (fresh machine: about
# 10 min, most of it compiling llama-cpp-python once).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first and pinned: 2.13.0 is the CPU build on this machine's disk; an unpinned torch pulls CUDA.
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## demo: ingest the bundled sample corpus, then write a verified, cited brief with the default
## provider (OpenAI when OPENAI_API_KEY is set, else the local SmolLM2 model) and print it.
demo: install
	$(BIN)/briefing ingest corpus/
	$(BIN)/briefing stats
	$(BIN)/briefing brief "state of foreign involvement in the Kursk region"

## browser: Debian's Chromium, for the test that opens the daily-brief site (needs root, as here).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)

## test: the whole test suite, offline, no API key (starts its own Chroma server on loopback).
test: install browser
	$(BIN)/pytest

## bench: benchmarks with figures and ratios against baselines (bench/README.md); not part of test.
bench: install
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.retrieval
	$(BIN)/python -m bench.embedder
	$(BIN)/python -m bench.retrieval_recall
	$(BIN)/python -m bench.judge_throughput
	$(BIN)/python -m bench.paraphrase
	$(BIN)/python -m bench.cli_startup --articles 3400
	$(BIN)/python -m bench.prompt_tokens
	$(BIN)/python -m bench.shared_store --articles 2600 26000

clean:
	rm -rf $(VENV) .briefing .pytest_cache
