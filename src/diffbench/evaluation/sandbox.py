"""Running work in a fresh child process: own session, no network, scrubbed environment, result via a file.

The harness never imports or runs the work itself. A child that crashes, hangs or prints garbage costs only
its own result: the parent kills the whole process group on timeout and reports what happened.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Variables a child may inherit; everything else (API keys, tokens, cloud credentials) is dropped.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_TAIL_CHARS = 4000


@dataclass(frozen=True)
class ChildOutcome:
    returncode: int | None
    timed_out: bool
    seconds: float
    result: Any | None
    stderr_tail: str
    network_isolated: bool

    @property
    def last_error_line(self) -> str:
        lines = [line for line in self.stderr_tail.splitlines() if line.strip()]
        return lines[-1].strip() if lines else f"exit code {self.returncode}"


@functools.cache
def network_isolation_available() -> bool:
    """Whether `unshare --net` works here (it needs root or user namespaces)."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, check=False)
    return probe.returncode == 0


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_module(
    module: str,
    args: list[str],
    workdir: Path,
    env: dict[str, str],
    timeout_s: float,
    isolate_network: bool = True,
) -> ChildOutcome:
    """Run `python -m module *args --result FILE` in `workdir` and read back the JSON it wrote to FILE."""
    workdir.mkdir(parents=True, exist_ok=True)
    result_file = workdir / "result.json"
    result_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", module, *args, "--result", str(result_file)]
    isolated = isolate_network and network_isolation_available()
    if isolate_network and not isolated:
        warnings.warn("network isolation unavailable (`unshare --net` failed): child runs with network", stacklevel=2)
    if isolated:
        cmd = ["unshare", "--net", "--", *cmd]
    start = time.perf_counter()
    with open(workdir / "stdout.log", "wb") as out, open(workdir / "stderr.log", "wb") as err:
        proc = subprocess.Popen(cmd, cwd=workdir, env=child_env(env), stdout=out, stderr=err, start_new_session=True)
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
    seconds = time.perf_counter() - start
    stderr_tail = (workdir / "stderr.log").read_text(errors="replace")[-_TAIL_CHARS:]
    result = None
    if result_file.is_file():
        try:
            result = json.loads(result_file.read_text())
        except json.JSONDecodeError:
            result = None
    return ChildOutcome(proc.returncode, timed_out, seconds, result, stderr_tail, isolated)


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
