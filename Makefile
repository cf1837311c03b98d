# The two set-up commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# bubblewrap (Debian) gives sandboxed children a read-only file system; without it they fall back to unshare,
# with a warning. Installing it is best effort: it needs root and Debian's package registry.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	@command -v bwrap >/dev/null 2>&1 || apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
		(apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1) || \
		echo "note: bubblewrap not installed; sandboxed children run without a read-only file system" >&2
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/diffbench models build --profile tiny-cpu
	$(BIN)/diffbench models check --profile tiny-cpu

# pytest exits 5 when it collected no test; a suite that ran nothing is a failure here.
test: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

bench: $(STAMP)
	$(BIN)/python scripts/bench_standins.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache
