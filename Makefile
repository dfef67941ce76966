# heprag — the two commands a fresh machine needs:
#   make run CORPUS=path/to/papers   install, build the index, open the chat
#   make test                        install, lint, run the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# onnx: one 9 MB wheel (~5 s), so CI tests the embedder's ONNX backends; openvino (59 MB) is left out.
# llamacpp is opt-in (make test EXTRAS=dev,app,agent,llm,dist,onnx,llamacpp): it compiles llama.cpp, 55 min
# on the shared 2-core dev box (7 s once pip's wheel cache has it); without it the real-model test skips.
EXTRAS ?= dev,app,agent,llm,dist,onnx
CORPUS ?= ../shared/corpus/pdfs/higgs
INDEX ?= $(HOME)/.local/share/heprag/index
PORT ?= 8501
PYTEST_ARGS ?=
BENCH ?=

.PHONY: install run test lint typecheck bench clean

install: $(VENV)/.installed

# torch is pinned by constraints.txt (a CPU build installs in seconds; unpinned it pulls CUDA).
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[$(EXTRAS)]"
	touch $@

run: install
	$(BIN)/heprag --index $(INDEX) ingest $(CORPUS)
	$(BIN)/heprag --index $(INDEX) chat --headless --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy checks the package under its import name (heprag.*): a link tree maps heprag/X to ./X.
typecheck: install
	mkdir -p build/typecheck/heprag
	for d in index ingest app evals; do ln -sfn ../../../$$d build/typecheck/heprag/$$d; done
	$(BIN)/mypy -p heprag

test: lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# make bench: list the benchmarks and run a quick one; make bench BENCH="answer_quality" runs another.
bench: install
	$(BIN)/python benchmarks/run_all.py $(BENCH)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
