"""Shared test set-up: a private model store, activated before anything imports huggingface_hub."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Tests never touch the user's store: a fresh DIFFBENCH_HOME per session (building it takes seconds).
_TEST_HOME = tempfile.mkdtemp(prefix="diffbench-test-home-")
os.environ["DIFFBENCH_HOME"] = _TEST_HOME
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from diffbench.calibration.machine_misses import fast_for, machine_reason  # noqa: E402
from diffbench.models.loading import activate  # noqa: E402
from diffbench.models.profiles import Profile, tiny_cpu  # noqa: E402
from diffbench.sandbox import confinement  # noqa: E402
from diffbench.sandbox.confinement import bubblewrap_works, readonly_namespace_works  # noqa: E402
from diffbench.tasks.schema import Task  # noqa: E402

activate(tiny_cpu())

# One setting for the size of slow acceptance checks: CI runs them reduced, DIFFBENCH_FULL_SIZE=1 at full size.
FULL_SIZE = os.environ.get("DIFFBENCH_FULL_SIZE") == "1"


def timed_half_precision_skip(task: Task) -> pytest.MarkDecorator | None:
    """A skip for a task whose reference runs bf16 (fp16) on a CPU without bf16 (fp16) instructions: at levels 4-5 its
    relative stage would measure the CPU, not the code, and at any level its calls can run past the judge's
    deadline (calibration/machine_misses.py, docs/evaluation.md). The device asked is the tests' profile's
    (tiny-cpu, as the `profile` fixture's), known before any fixture runs."""
    reason = machine_reason(task, fast_half_precision=fast_for(task, tiny_cpu().device), timed_out=True)
    return pytest.mark.skip(reason=reason) if reason else None


# The run's thread settings, for a subprocess started with an environment of its own: `make test` runs two workers,
# each torch process on one thread; a process on the machine's default threads beside them slows all of them 5-10x.
THREADS = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}

FIXTURES = Path(__file__).parent / "fixtures"
# The extended suite's recorded reference run (scripts/judge_extended.py).
EXTENDED_RUN_RECORD = Path(__file__).resolve().parent.parent / "docs" / "extended_reference_run.json"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_TEST_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def profile() -> Iterator[Profile]:
    """The tiny-cpu profile with every stand-in built (once per session)."""
    from diffbench.models.standins.build import build_standins

    prof = tiny_cpu()
    build_standins(prof)
    yield prof


@pytest.fixture(scope="session")
def generated_suite() -> Callable[[str], list[Task]]:
    """Each suite as the generator writes it from the committed knowledge base and calibration records, generated
    once per session (the paper suite takes ~20 s) for the tests that compare it with the committed files."""
    from diffbench.builders.generate import generate

    return functools.cache(lambda suite_name: generate(suite=suite_name))


@pytest.fixture
def empty_profile(tmp_path: Path) -> Profile:
    """A tiny-cpu profile whose store holds nothing."""
    return tiny_cpu().model_copy(update={"hub_cache": tmp_path / "empty-hub"})


@pytest.fixture(params=["bubblewrap", "mount namespace"])
def read_only_sandbox(request, monkeypatch) -> str:
    """Each read-only mechanism in turn: bubblewrap, and the unshare mount namespace used where it is missing."""
    if request.param == "bubblewrap" and not bubblewrap_works():
        pytest.skip("bubblewrap is not installed here")
    if request.param == "mount namespace":
        if not readonly_namespace_works():
            pytest.skip("unshare cannot make a mount namespace here")
        monkeypatch.setattr(confinement, "bubblewrap_works", lambda: False)
    return request.param
