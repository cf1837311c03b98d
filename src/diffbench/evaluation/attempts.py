"""What a solution tried to do outside what its sandbox allows, seen by a Python audit hook in the worker.

The sandbox contains such acts (a read-only file system, no capabilities); this records them, so that a candidate
caught attempting one fails with a named rule even when it swallowed the error. The hook records and never
denies: containment stays the kernel's. It is installed before the solution is imported and cannot be removed
(`sys.addaudithook`); it lives in the candidate's process, so it sees what Python does, not what a C library
does on its own (docs/evaluation.md says which acts are seen where).

Seen:
- a write, create, delete, rename, link or mode change of a path outside the writable folders (the work folder,
  the temporary folder, and `/tmp` or `/dev` where the sandbox made them private), whether or not it succeeded;
- a C function that changes the sandbox itself (mount, unshare, setns, pivot_root, ptrace, ...) looked up through
  ctypes.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from typing import Any

from diffbench.sandbox.oneshot import READ_ONLY_VARIABLE, WRITABLE_VARIABLE

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
# audit event -> positions of its path arguments that it writes
PATH_EVENTS = {
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.rename": (0, 1),
    "os.link": (1,),
    "os.symlink": (1,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.truncate": (0,),
    "os.utime": (0,),
    "shutil.rmtree": (0,),
}
SANDBOX_CALLS = frozenset(
    {"mount", "umount", "umount2", "unshare", "setns", "pivot_root", "chroot", "ptrace", "init_module",
     "finit_module", "kexec_load"}
)  # fmt: skip
ALWAYS_WRITABLE = ("/dev/null", "/dev/shm")  # subprocess.DEVNULL opens /dev/null read-write
MAX_RECORDED = 20


def _folder(path: str) -> str:
    return os.path.realpath(path).rstrip("/") + "/"


class AttemptRecorder:
    def __init__(self, workdir: str, writable: Sequence[str] = (), read_only: Sequence[str] = ()) -> None:
        self.own = _folder(workdir)
        self.writable = tuple(_folder(p) for p in writable if p)
        self.read_only = tuple(_folder(p) for p in read_only if p)
        self.seen: list[str] = []
        self.active = False
        self._lock = threading.Lock()
        self._inside = threading.local()

    def _allowed(self, path: Any) -> bool:
        if isinstance(path, int):  # a file descriptor: opened (and judged) before
            return True
        name = os.fsdecode(os.fspath(path))
        real = _folder(name)
        if real.startswith(self.own):
            return True
        return real.startswith(self.writable) and not (self.read_only and real.startswith(self.read_only))

    def _record(self, what: str) -> None:
        with self._lock:
            if what not in self.seen and len(self.seen) < MAX_RECORDED:
                self.seen.append(what)

    def hook(self, event: str, args: tuple) -> None:
        if not self.active or getattr(self._inside, "busy", False):
            return
        if event != "open" and event not in PATH_EVENTS and event != "ctypes.dlsym":
            return
        self._inside.busy = True  # realpath below must not audit itself
        try:
            if event == "open":
                path, mode, flags = (*args, None, None, None)[:3]
                writes = (flags & WRITE_FLAGS) if isinstance(flags, int) else any(c in (mode or "") for c in "wax+")
                if path is not None and writes and not self._allowed(path):
                    self._record(f"open {os.fsdecode(os.fspath(path))!r} for writing")
            elif event == "ctypes.dlsym":
                name = args[1] if len(args) > 1 else None
                name = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
                if name in SANDBOX_CALLS:
                    self._record(f"look up the C function {name}() through ctypes")
            else:
                for position in PATH_EVENTS[event]:
                    if position < len(args) and args[position] is not None and not self._allowed(args[position]):
                        self._record(f"{event.split('.')[-1]} {os.fsdecode(os.fspath(args[position]))!r}")
        except Exception:  # the hook must never break the audited call
            pass
        finally:
            self._inside.busy = False

    def take(self) -> list[str]:
        """What was attempted since the last take."""
        with self._lock:
            seen, self.seen = self.seen, []
        return seen


def install(workdir: str) -> AttemptRecorder:
    """Record from now on: the work folder, the temporary folder and the sandbox's writable folders are allowed."""
    import tempfile

    writable = [tempfile.gettempdir(), *ALWAYS_WRITABLE, *os.environ.get(WRITABLE_VARIABLE, "").split(os.pathsep)]
    recorder = AttemptRecorder(workdir, writable, os.environ.get(READ_ONLY_VARIABLE, "").split(os.pathsep))
    sys.addaudithook(recorder.hook)
    recorder.active = True
    return recorder
