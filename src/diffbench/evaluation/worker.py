"""The child side of a judging session: imports one solution module and runs it on command.

Runs only inside a confined child (session.py). The clock and the device synchronisation are captured before
the solution is imported, so a solution that patches `time` or `torch.cuda.synchronize` changes nothing here;
the parent also checks every reported time against its own wall clock.

Commands (one JSON object per line on the commands pipe; one answer per line on the answers pipe):
    {"op": "load", "module": PATH, "device": "cpu"}
    {"op": "generate", "request": {...; "image": PATH}, "save_as": NAME}
    {"op": "quit"}
"""

from __future__ import annotations

import time

_clock = time.perf_counter  # captured first: before anything a solution could patch

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def _no_sync() -> None:
    return None


SIDE_WORK_PEEK_S = 0.03  # every call: other threads and processes are looked at this long after it returns
SIDE_WORK_WINDOW_S = 0.25  # and watched this long where the peek saw CPU used or the call left new ones behind
SIDE_WORK_CPU_S = 0.05  # CPU seconds in that window (or before the next call) that count as work still running


def _cpu_seconds(stat_path: str) -> tuple[str, float] | None:
    """(name, user + system CPU seconds) of a thread or process, from its /proc stat file."""
    try:
        with open(stat_path) as f:
            stat = f.read()
    except OSError:
        return None
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat.rsplit(")", 1)[1].split()
    return name, (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def _cpu_elsewhere() -> dict[str, tuple[str, float]]:
    """CPU seconds so far of every thread of this process but the worker's own, and of every child process."""
    me = threading.get_native_id()
    python_names = {t.native_id: t.name for t in threading.enumerate()}
    found = {}
    for tid in os.listdir("/proc/self/task"):
        if int(tid) != me and (seen := _cpu_seconds(f"/proc/self/task/{tid}/stat")) is not None:
            found[f"thread {tid}"] = (python_names.get(int(tid), seen[0]), seen[1])
    for pid in _child_processes():
        if (seen := _cpu_seconds(f"/proc/{pid}/stat")) is not None:
            found[f"process {pid}"] = seen
    return found


def _busy(
    before: dict[str, tuple[str, float]], after: dict[str, tuple[str, float]], threshold: float = SIDE_WORK_CPU_S
) -> list[dict[str, Any]]:
    """Threads and processes that used at least `threshold` CPU seconds between the two snapshots."""
    busy = []
    for key, (name, cpu) in after.items():
        used = cpu - before.get(key, (name, 0.0))[1]
        if used >= threshold:
            busy.append({"what": f"{key} ({name})", "cpu_s": round(used, 3)})
    return busy


class Worker:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.module: Any = None
        self.pipe: Any = None
        self.observers: Any = None
        self.sync = _no_sync
        self.returned: tuple[float, dict[str, tuple[str, float]]] | None = None  # when the last call returned
        self.attempts: Any = None  # the audit hook's record (attempts.py), from the solution's import on

    def load(self, msg: dict[str, Any]) -> dict[str, Any]:
        import torch

        from diffbench.evaluation.observers import Observers  # main() ran prepare() before the first command

        device = msg.get("device", "cpu")
        if device.startswith("cuda") and torch.cuda.is_available():
            synchronize, target = torch.cuda.synchronize, torch.device(device)
            self.sync = lambda: synchronize(target)  # the device the solution runs on, not only the current one
        from diffbench.evaluation.attempts import install

        self.attempts = install(str(self.workdir))
        spec = importlib.util.spec_from_file_location("solution", msg["module"])
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {msg['module']}")
        module = importlib.util.module_from_spec(spec)
        sys.modules["solution"] = module
        start = _clock()
        spec.loader.exec_module(module)
        self.module = module
        self.pipe = module.load_pipeline(device)
        self.sync()
        seconds = _clock() - start
        self.observers = Observers(self.pipe)
        return {"ok": True, "load_seconds": seconds, "runtime": self.observers.describe()}

    def generate(self, msg: dict[str, Any]) -> dict[str, Any]:
        from PIL import Image

        if self.module is None:
            raise RuntimeError("generate before load")
        request = dict(msg["request"])
        if "image" in request:
            with Image.open(request["image"]) as img:
                request["image"] = img.convert("RGB")
        side_work = self._work_since_last_return()
        threads_before = set(threading.enumerate())
        self.observers.reset()
        self.sync()
        start = _clock()
        images = self.module.generate(self.pipe, request)
        self.sync()
        seconds = _clock() - start
        side_work += self._work_after_return(threads_before)
        _check_outputs(images)
        from diffbench.images import save_output

        paths = []
        for n, output in enumerate(images):
            path = self.workdir / f"{msg['save_as']}-{n}.png"
            save_output(output, path)
            paths.append(str(path))
        first_frames = [o[0] if isinstance(o, list) else o for o in images]
        return {
            "ok": True,
            "seconds": seconds,
            "images": paths,  # one file per output: an image, or a video's filmstrip (images.save_output)
            "sizes": [list(i.size) for i in first_frames],
            "frames": [len(o) if isinstance(o, list) else None for o in images],  # None: an image
            "observed": self.observers.report(),
            "side_work": side_work,
        }

    def _work_after_return(self, threads_before: set[threading.Thread]) -> list[dict[str, Any]]:
        """Work still running after generate() returned: CPU used by other threads and by child processes.

        Whatever their names, idle threads (a progress bar's monitor, a compiler's worker pool) use no CPU and
        pass, and a thread that keeps computing fails. Every call gets a short peek; where it saw CPU used, or the
        call left new threads or processes behind, they are watched for SIDE_WORK_WINDOW_S. Work that starts
        later is caught when the next call arrives (in a timing run, after the other child's timed call)."""
        snapshot = _cpu_elsewhere()
        time.sleep(SIDE_WORK_PEEK_S)
        peek = _cpu_elsewhere()
        new_threads = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
        busy: list[dict[str, Any]] = []
        # Two clock ticks in the peek: a computing thread shows them; a pool thread that spun for a moment after
        # its last task (OpenMP does) shows at most one.
        ticks = 2 / os.sysconf("SC_CLK_TCK")
        if new_threads or any(key.startswith("process") for key in peek) or _busy(snapshot, peek, ticks):
            time.sleep(SIDE_WORK_WINDOW_S)
            later = _cpu_elsewhere()
            busy, peek = _busy(peek, later), later
        self.returned = (_clock(), peek)
        return busy

    def _work_since_last_return(self) -> list[dict[str, Any]]:
        if self.returned is None:
            return []
        _, before = self.returned
        self.returned = None
        return _busy(before, _cpu_elsewhere())


def _check_outputs(outputs: Any) -> None:
    """The contract's result: a list with one image, or one video as a list of its frames, per request."""
    from PIL import Image

    def is_video(o: Any) -> bool:
        return isinstance(o, list) and bool(o) and all(isinstance(f, Image.Image) for f in o)

    if isinstance(outputs, list) and all(isinstance(o, Image.Image) or is_video(o) for o in outputs):
        return
    got = type(outputs).__name__
    if isinstance(outputs, list) and outputs:
        got = f"a list of {type(outputs[0]).__name__}"
    arrays = "ndarray" in got or "Tensor" in got
    hint = " (a video pipeline returns PIL frames with output_type='pil')" if arrays else ""
    raise TypeError(
        f"generate() must return a list of PIL images, or of videos as lists of PIL frames, got {got}{hint}"
    )


def prepare() -> None:
    """Import what loading and answering need, before any solution code; idempotent.

    The trace goes in before the solution imports anything that could keep its own reference. What answering a
    call imports (the trace's torch._dynamo counters, PIL's PNG writer) is imported here too: imported after a
    call, beside a thread the solution left computing in pure Python, each of the ~800 modules' file operations
    waits for the GIL - a minute on a 2-core machine (seen 2026-11-28), and the answer missed its deadline instead
    of reporting the side work. main() runs this right after the worker says it is ready (2.5-3.0 s in the
    sandbox on a 2-core EPYC, 2026-12-07), so the judge's timing baseline child imports while the candidate's
    child does (measuring.MeasuringSession.prepare_timing); a load command waits in the pipe meanwhile."""
    import torch
    import torch._dynamo.utils  # noqa: F401
    from PIL import Image

    from diffbench.evaluation.observers import Observers  # noqa: F401
    from diffbench.evaluation.trace import TRACER
    from diffbench.images import save_output  # noqa: F401

    TRACER.install()
    Image.preinit()


def _child_processes() -> list[int]:
    """Processes this worker started that are still running (its /proc is its own PID namespace's)."""
    me, found = str(os.getpid()), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me and fields[0] != "Z":
                found.append(int(entry))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands-fd", type=int, required=True)
    parser.add_argument("--responses-fd", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args()
    commands = os.fdopen(args.commands_fd, "r")
    answers = os.fdopen(args.responses_fd, "w")
    answers.write(json.dumps({"ready": True}) + "\n")  # the harness fixes the sandbox's own processes now
    answers.flush()
    prepare()  # after "ready": a harness that starts a second child meanwhile has both import at once
    worker = Worker(args.workdir)
    for line in commands:
        msg = json.loads(line)
        op = msg.get("op")
        if op == "quit":
            answers.write(json.dumps({"ok": True}) + "\n")
            answers.flush()
            break
        try:
            handler = {"load": worker.load, "generate": worker.generate}[op]
            answer = handler(msg)
        except BaseException as err:  # the solution's failure is an answer, not the worker's death
            answer = {
                "ok": False,
                "error": f"{type(err).__name__}: {err}"[:2000],
                "traceback": traceback.format_exc()[-4000:],
            }
        if worker.attempts is not None:
            answer["attempts"] = worker.attempts.take()
        answers.write(json.dumps(answer, default=str) + "\n")
        answers.flush()
    sys.stdout.flush()
    os._exit(0)  # do not wait for threads a solution left behind


if __name__ == "__main__":
    main()
