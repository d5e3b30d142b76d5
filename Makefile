# Two commands: `make run` (set up and serve) and `make test` (set up and test).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHON ?= python3
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup browser run test smoke lint bench bench-load eval eval-chat eval-gate clean

$(STAMP): pyproject.toml rag/answer/llama_build.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: this CPU build lies on disk; any other spec pulls CUDA.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	# llama.cpp built for this CPU's features (never -march=native, never AMX), cached by them
	$(BIN)/python -P rag/answer/llama_build.py --python $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[model,dev]'
	touch $(STAMP)

setup: $(STAMP)
	$(BIN)/rag models
	$(BIN)/rag index

run: setup
	$(BIN)/rag serve

# Debian's Chromium for the page's browser tests (no browser download at test time);
# without root or apt the tests are skipped and say why.
browser:
	@command -v chromium >/dev/null && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "chromium not installed and cannot install it (not root / no apt): browser tests will be skipped"; \
	fi

test: setup browser
	$(BIN)/python -m pytest

# One real question through the installed llama.cpp build (CI): no cited answer, no pass.
SMOKE_Q := What does FrugalML do when the base API is not confident?
smoke: setup
	@out="$$($(BIN)/rag ask '$(SMOKE_Q)')"; echo "$$out"; \
	grep -q '^Sources:' <<<"$$out" && grep -qiE '(2nd|second|another) API' <<<"$$out" \
		|| { echo "smoke: no cited answer to '$(SMOKE_Q)'"; exit 1; }

lint: $(STAMP)
	$(BIN)/ruff check rag api tests bench eval
	$(BIN)/ruff format --check rag api tests bench eval
	$(BIN)/mypy rag api

eval: setup
	$(BIN)/rag eval

eval-chat: setup
	$(BIN)/rag eval --chat

# CI: retrieval-only eval of the whole set; fails if hit@5 drops >2 points below baseline.
eval-gate: setup
	$(BIN)/rag eval --retrieval-only --gate eval/results/baseline.json

bench: setup
	$(BIN)/python bench/latency.py

# against a server started with `make run` in another terminal
bench-load:
	$(BIN)/python bench/load.py --clients 16 --seconds 120

clean:
	rm -rf $(VENV) models index/builds index/CURRENT
