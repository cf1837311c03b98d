"""A one-shot confined child: own session, namespaces (no network, own PIDs, read-only files but its work
folder), memory/process/file limits, scrubbed environment, result via a file (see confinement.py).

The harness never imports or runs the work itself. A child that crashes, hangs or prints garbage costs only
its own result: the parent kills the whole process group on timeout and reports what happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diffbench.sandbox.confinement import Confinement, Limits, bubblewrap_works, unshare_works

# The child's writable folders besides its work folder, os.pathsep-separated, for the worker's audit record of
# what a solution tried to write elsewhere (evaluation/attempts.py).
WRITABLE_VARIABLE = "DIFFBENCH_WRITABLE"
READ_ONLY_VARIABLE = "DIFFBENCH_READ_ONLY"  # and the read-only binds inside those folders

# Variables a child may inherit; everything else (API keys, tokens, cloud credentials) is dropped. The device
# selection (CUDA_VISIBLE_DEVICES as Ray or the user set it, the NVIDIA container variables) passes, so the
# child uses the GPU its parent was given; LD_LIBRARY_PATH passes because CUDA drivers often live outside the
# default library path in containers.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "LD_LIBRARY_PATH")
_INHERITED_PREFIXES = ("CUDA_", "NVIDIA_", "PYTORCH_CUDA_")
_SECRET_MARKS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL")
_TAIL_CHARS = 4000
_STORE_VARIABLES = ("DIFFBENCH_HOME", "HF_HUB_CACHE", "HF_HOME")


@dataclass(frozen=True)
class ChildOutcome:
    returncode: int | None
    timed_out: bool
    seconds: float
    result: Any | None
    stderr_tail: str
    network_isolated: bool
    sandbox: dict[str, Any] | None = None

    @property
    def last_error_line(self) -> str:
        lines = [line for line in self.stderr_tail.splitlines() if line.strip()]
        return lines[-1].strip() if lines else f"exit code {self.returncode}"


def network_isolation_available() -> bool:
    """Whether children here get their own network namespace (bubblewrap or unshare)."""
    return bubblewrap_works() or unshare_works()


def child_env(extra: dict[str, str], confinement: Confinement | None = None) -> dict[str, str]:
    env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    env |= {
        k: v
        for k, v in os.environ.items()
        if k.startswith(_INHERITED_PREFIXES) and not any(mark in k for mark in _SECRET_MARKS)
    }
    env["PYTHONUNBUFFERED"] = "1"
    # Its view is read-only outside its folder: imports would only try (and fail) to write bytecode caches beside
    # the installed modules, and the worker's audit record would count every try (evaluation/attempts.py).
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    if confinement is not None and (tmp := confinement.child_tmpdir()):
        env["TMPDIR"] = tmp
    if confinement is not None:
        env[WRITABLE_VARIABLE] = os.pathsep.join(confinement.private_folders())
        env[READ_ONLY_VARIABLE] = os.pathsep.join(confinement.read_only_binds())
        # Compilers cache under the home folder by default, which is read-only here: triton's kernels and CUDA's
        # compute cache (GPU), anything that follows XDG. Their caches go into the child's own folder instead.
        cache = confinement.workdir / ".cache"
        env |= {"XDG_CACHE_HOME": str(cache), "TRITON_CACHE_DIR": str(cache / "triton")}
        env["CUDA_CACHE_PATH"] = str(cache / "nv")
    return env


def store_paths(env: dict[str, str]) -> tuple[Path, ...]:
    """Folders a child must be able to read although /tmp is replaced in its view (model store, import paths)."""
    paths = [Path(env[k]) for k in _STORE_VARIABLES if k in env and Path(env[k]).is_absolute()]
    paths += [Path(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).is_absolute()]
    return tuple(paths)


def run_module(
    module: str,
    args: list[str],
    workdir: Path,
    env: dict[str, str],
    timeout_s: float,
    isolate_network: bool = True,
    limits: Limits | None = None,
    hidden: tuple[Path, ...] = (),
) -> ChildOutcome:
    """Run `python -m module *args --result FILE` confined, in `workdir`, and read back the JSON it wrote."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    result_file = workdir / "result.json"
    result_file.unlink(missing_ok=True)
    confinement = Confinement(workdir, limits or Limits(), store_paths(env), hidden, isolate_network)
    cmd = [*confinement.prefix(), sys.executable, "-m", module, *args, "--result", str(result_file)]
    start = time.perf_counter()
    hook = confinement.start()
    try:
        with open(workdir / "stdout.log", "wb") as out, open(workdir / "stderr.log", "wb") as err:
            proc = subprocess.Popen(
                cmd,
                cwd=workdir,
                env=child_env(env, confinement),
                stdout=out,
                stderr=err,
                start_new_session=True,
                preexec_fn=hook,
            )
            timed_out = False
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(proc)
    finally:
        confinement.finish()
    seconds = time.perf_counter() - start
    stderr_tail = (workdir / "stderr.log").read_text(errors="replace")[-_TAIL_CHARS:]
    result = None
    if result_file.is_file():
        try:
            result = json.loads(result_file.read_text())
        except json.JSONDecodeError:
            result = None
    isolated = isolate_network and network_isolation_available()
    return ChildOutcome(proc.returncode, timed_out, seconds, result, stderr_tail, isolated, confinement.describe())


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
