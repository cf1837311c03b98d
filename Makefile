# The two set-up commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-full lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# bubblewrap (Debian) gives sandboxed children a read-only file system; without it they fall back to unshare,
# with a warning. Installing it is best effort: it needs root and Debian's package registry.
# chromium (Debian) renders the HTML report in the tests (Playwright drives it; its own browser download is
# blocked here); without it that test fails and says so.
# constraints.txt holds the exact versions tested here; pyproject.toml only ranges (a GPU user keeps their torch).
$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	@command -v bwrap >/dev/null 2>&1 || apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
		(apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1) || \
		echo "note: bubblewrap not installed; sandboxed children run without a read-only file system" >&2
	@command -v chromium >/dev/null 2>&1 || apt-get install -y -qq chromium >/dev/null 2>&1 || \
		(apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1) || \
		echo "note: chromium not installed; the HTML report test will fail" >&2
	touch $(STAMP)

# The main job on the offline default: the agent with its heuristic planner (no LLM) on a level-4 style request.
# L4-001 is the benchmark task with the same baseline; its tiny-cpu target is 2.59x, so the demo asks 2.6x.
DEMO_REQUEST := Take an SD1.5 pipeline (DDIM, 50 steps) as the baseline and reach a 2.6x speedup with at most 5% quality loss
DEMO_OUT := out/demo

demo: $(STAMP)
	$(BIN)/diffbench models build --profile tiny-cpu
	$(BIN)/diffagent solve "$(DEMO_REQUEST)" --profile tiny-cpu --out $(DEMO_OUT)
	@echo "code:   $(DEMO_OUT)/solution.py"
	@echo "report: $(DEMO_OUT)/report.md (plot $(DEMO_OUT)/front.png, history $(DEMO_OUT)/history.json)"
	@echo "check it independently on the matching task: $(BIN)/diffbench eval L4-001 $(DEMO_OUT)/solution.py --profile tiny-cpu"

# pytest exits 5 when it collected no test; a suite that ran nothing is a failure here.
# Two workers (pytest-xdist), each test file on one of them (a module's fixtures are built once), every torch process
# on one thread: on 2 cores two single-threaded processes do more than one two-threaded one (an SD1.5 stand-in call
# at 512 px: 3.5 s on 2 threads, 5.3 s on 1, 2026-12-07) and overlap the children's 8 s imports, while two torch
# processes on the machine's default threads slow each other 5-100x. TEST_WORKERS=1 runs them one after another.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check --quiet src tests scripts
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

# Every test at full size: the whole reference sample, the methods check on every family, timed tests at the
# judge's own rounds (DIFFBENCH_FULL_SIZE=1); hours on a 2-core CPU. One process at the machine's threads: its timed
# tests check the targets' calibrated margins, which were measured so.
test-full: $(STAMP)
	$(BIN)/ruff check src tests scripts
	DIFFBENCH_FULL_SIZE=1 $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python scripts/bench_standins.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache
