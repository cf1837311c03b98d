"""A long-lived confined child that runs one solution module on request (the judge's side of the protocol).

The child is `python -m diffbench.evaluation.worker`, confined as every sandboxed child is (confinement.py).
Commands go down one pipe and answers come up another, one JSON object per line; the module's own stdout and
stderr go to log files, so nothing it prints can forge an answer. Every command has a deadline: a child that
misses it, dies, or breaks the protocol is killed with everything it started, and the caller gets a
`SessionError` saying which (timeout, memory limit, process limit, crash, protocol), never a hang.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from diffbench.errors import DiffbenchError
from diffbench.sandbox.confinement import Confinement, Limits
from diffbench.sandbox.oneshot import child_env, store_paths
from diffbench.sandbox.processes import SandboxProcesses

MAX_LINE = 1 << 20  # an answer longer than this is a protocol violation
READY_S = 60.0  # the worker says it is ready before it imports anything heavy: seconds, not minutes


class SessionError(DiffbenchError):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class WorkerSession:
    def __init__(
        self,
        workdir: Path,
        env: dict[str, str],
        limits: Limits | None = None,
        hidden: tuple[Path, ...] = (),
        isolate: bool = True,
        worker: str = "diffbench.evaluation.worker",
    ) -> None:
        self.workdir = workdir.resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.confinement = Confinement(self.workdir, limits or Limits(), store_paths(env), hidden, isolate)
        self.env = env
        self.worker = worker
        self.proc: subprocess.Popen | None = None
        self.processes: SandboxProcesses | None = None
        self._buffer = b""

    def __enter__(self) -> WorkerSession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        cmd_read, self._cmd_write = os.pipe()
        self._resp_read, resp_write = os.pipe()
        argv = [*self.confinement.prefix(), sys.executable, "-m", self.worker]
        argv += ["--commands-fd", str(cmd_read), "--responses-fd", str(resp_write), "--workdir", str(self.workdir)]
        hook = self.confinement.start()
        with open(self.workdir / "stdout.log", "ab") as out, open(self.workdir / "stderr.log", "ab") as err:
            self.proc = subprocess.Popen(
                argv,
                cwd=self.workdir,
                env=child_env(self.env, self.confinement),
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                pass_fds=(cmd_read, resp_write),
                start_new_session=True,
                preexec_fn=hook,
            )
        os.close(cmd_read)
        os.close(resp_write)
        ready = self._read_line(time.perf_counter() + READY_S)
        if ready.strip() != json.dumps({"ready": True}).encode():
            raise self._failure("protocol", "the worker did not say it was ready")
        self.processes = SandboxProcesses.when_ready(self.proc.pid)

    def harness_facts(self) -> dict[str, Any]:
        """What the harness itself sees of the child, which nothing inside it can change: whether the pids cgroup
        refused it a fork, and the processes it left outside the worker's session (processes.py)."""
        groups = self.confinement.cgroups
        detached = self.processes.detached() if self.processes is not None else []
        return {
            "process_limit_hit": groups is not None and groups.hit_process_limit(),
            "process_limit": self.confinement.limits.processes,
            "detached_processes": [p.describe() for p in detached],
        }

    def call(self, command: dict[str, Any], timeout_s: float) -> tuple[dict[str, Any], float]:
        """Send one command; its answer and the seconds the parent waited for it (the wall-clock check)."""
        if self.proc is None or self.proc.poll() is not None:
            raise self._failure("crash", "the child is not running")
        start = time.perf_counter()
        try:
            os.write(self._cmd_write, (json.dumps(command) + "\n").encode())
        except BrokenPipeError:
            raise self._failure("crash", "the child closed its command pipe") from None
        line = self._read_line(start + timeout_s)
        waited = time.perf_counter() - start
        try:
            answer = json.loads(line)
        except json.JSONDecodeError:
            raise self._failure("protocol", "the child's answer is not JSON") from None
        if not isinstance(answer, dict):
            raise self._failure("protocol", "the child's answer is not an object")
        answer["harness"] = self.harness_facts()  # replaces whatever the child wrote there
        return answer, waited

    def _read_line(self, deadline: float) -> bytes:
        while b"\n" not in self._buffer:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise self._failure("timeout", "no answer before the deadline")
            ready, _, _ = select.select([self._resp_read], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._resp_read, 65536)
            if not chunk:
                raise self._failure("crash", "the child died")
            self._buffer += chunk
            if len(self._buffer) > MAX_LINE:
                raise self._failure("protocol", "the child's answer is too long")
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def _failure(self, kind: str, message: str) -> SessionError:
        """Kill everything, then say what happened, preferring the limit the child hit over the symptom."""
        groups = self.confinement.cgroups
        memory = groups is not None and groups.hit_memory_limit()
        processes = groups is not None and groups.hit_process_limit()
        self.kill()
        if memory:
            return SessionError("memory", f"the child exceeded {self.confinement.limits.memory_mb} MB ({message})")
        if processes:
            return SessionError(
                "processes", f"the child hit the limit of {self.confinement.limits.processes} processes"
            )
        if kind == "crash":
            tail = self.stderr_tail()
            last = next((ln.strip() for ln in reversed(tail.splitlines()) if ln.strip()), "")
            code = self.proc.returncode if self.proc is not None else None
            return SessionError("crash", f"{message} (exit code {code}){': ' + last if last else ''}")
        return SessionError(kind, message)

    def stderr_tail(self, chars: int = 4000) -> str:
        path = self.workdir / "stderr.log"
        return path.read_text(errors="replace")[-chars:] if path.is_file() else ""

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 9)
            self.proc.wait()
        self.confinement.finish()

    def close(self, ask_to_quit: bool = True) -> None:
        """Ask the worker to quit (5 s), then kill what is left; `ask_to_quit=False` kills at once (a child that
        was never given work, which may still be importing)."""
        if ask_to_quit and self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError, SessionError):
                self.call({"op": "quit"}, timeout_s=5)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        self.kill()
        for fd in (getattr(self, "_cmd_write", None), getattr(self, "_resp_read", None)):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
