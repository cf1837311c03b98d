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


class Worker:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.module: Any = None
        self.pipe: Any = None
        self.observers: Any = None
        self.sync = _no_sync

    def load(self, msg: dict[str, Any]) -> dict[str, Any]:
        import torch

        from diffbench.evaluation.runtime import Observers

        device = msg.get("device", "cpu")
        if device.startswith("cuda") and torch.cuda.is_available():
            synchronize, target = torch.cuda.synchronize, torch.device(device)
            self.sync = lambda: synchronize(target)  # the device the solution runs on, not only the current one
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
        threads_before = set(threading.enumerate())
        self.observers.reset()
        self.sync()
        start = _clock()
        images = self.module.generate(self.pipe, request)
        self.sync()
        seconds = _clock() - start
        lingering = [t.name for t in threading.enumerate() if t not in threads_before and t.is_alive()]
        if not isinstance(images, list) or not all(isinstance(i, Image.Image) for i in images):
            raise TypeError(f"generate() must return a list of PIL images, got {type(images).__name__}")
        paths = []
        for n, image in enumerate(images):
            path = self.workdir / f"{msg['save_as']}-{n}.png"
            image.save(path)
            paths.append(str(path))
        return {
            "ok": True,
            "seconds": seconds,
            "images": paths,
            "sizes": [list(i.size) for i in images],
            "observed": self.observers.report(),
            "lingering_threads": lingering,
            "child_processes": _child_processes(),
        }


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
        answers.write(json.dumps(answer, default=str) + "\n")
        answers.flush()
    sys.stdout.flush()
    os._exit(0)  # do not wait for threads a solution left behind


if __name__ == "__main__":
    main()
