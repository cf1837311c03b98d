"""Per-child cgroups: v1 `pids` and `memory` controllers, or one v2 group with `pids.max` and `memory.max` under the
harness's own group where that group can delegate; which could be made, and why not, for the warnings.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 8192
    processes: int = 256
    file_mb: int = 2048
    open_files: int = 4096


def cgroup2_base(mountinfo: Path = Path("/proc/self/mountinfo"), own: Path = Path("/proc/self/cgroup")) -> Path | None:
    """This process's own cgroup in the v2 tree, if a cgroup2 file system is mounted."""
    mount = None
    with contextlib.suppress(OSError):
        for line in mountinfo.read_text().splitlines():
            left, _, right = line.partition(" - ")
            if right.split(" ", 1)[0] == "cgroup2":
                mount = Path(left.split()[4])
                break
    if mount is None:
        return None
    path = "/"
    with contextlib.suppress(OSError):
        for line in own.read_text().splitlines():
            if line.startswith("0::"):
                path = line[3:]
    return mount / path.lstrip("/")


V2_CONTROLLERS = ("pids", "memory")


def cgroup2_delegated(base: Path) -> tuple[bool, str]:
    """Whether child groups under `base` get the pids and memory controllers; enables them if it may.
    (False, why) when not: a v2 parent that holds processes itself cannot hand controllers to children."""
    try:
        available = (base / "cgroup.controllers").read_text().split()
    except OSError as err:
        return False, f"cgroup v2 at {base} is not readable ({err.strerror})"
    missing = [c for c in V2_CONTROLLERS if c not in available]
    if missing:
        return False, f"cgroup v2 at {base} offers no {' or '.join(missing)} controller"
    control = base / "cgroup.subtree_control"
    enabled = control.read_text().split() if control.is_file() else []
    todo = [c for c in V2_CONTROLLERS if c not in enabled]
    if todo:
        try:
            control.write_text(" ".join(f"+{c}" for c in todo))
        except OSError as err:
            return False, (
                f"cannot enable {', '.join(todo)} for child groups of {base} ({err.strerror}; a group that holds "
                "processes cannot delegate: run the harness in a delegated leaf group, e.g. "
                "`systemd-run --scope -p Delegate=yes`)"
            )
    return True, ""


@dataclass
class Cgroups:
    """One child's cgroup folders: per controller under v1 (`pids`, `memory`), or one v2 group holding both."""

    name: str
    version: int = 0  # 0: none could be made
    folders: dict[str, Path] = field(default_factory=dict)
    why_not: str = ""

    @classmethod
    def create(cls, limits: Limits, root: Path = CGROUP_ROOT, v2_base: Path | None = None) -> Cgroups:
        groups = cls(f"diffbench-{uuid.uuid4().hex[:12]}")
        if any(_v1_writable(root, c) for c in V2_CONTROLLERS):
            groups._create_v1(limits, root)
        else:
            base = v2_base if v2_base is not None else cgroup2_base()
            if base is None:
                groups.why_not = "no cgroup file system is mounted"
            else:
                groups._create_v2(limits, base)
        return groups

    def _create_v1(self, limits: Limits, root: Path) -> None:
        settings = {
            "pids": {"pids.max": str(limits.processes)},
            "memory": {"memory.limit_in_bytes": str(limits.memory_mb * 1024 * 1024), "memory.swappiness": "0"},
        }
        for controller, values in settings.items():
            if not _v1_writable(root, controller):
                continue
            folder = root / controller / self.name
            try:
                folder.mkdir()
                for key, value in values.items():
                    with contextlib.suppress(OSError):  # swappiness is not everywhere
                        (folder / key).write_text(value)
                self.folders[controller] = folder
                self.version = 1
            except OSError:
                continue

    def _create_v2(self, limits: Limits, base: Path) -> None:
        ok, why = cgroup2_delegated(base)
        if not ok:
            self.why_not = why
            return
        folder = base / self.name
        try:
            folder.mkdir()
            (folder / "pids.max").write_text(str(limits.processes))
            (folder / "memory.max").write_text(str(limits.memory_mb * 1024 * 1024))
            with contextlib.suppress(OSError):  # no swap accounting on some hosts
                (folder / "memory.swap.max").write_text("0")
        except OSError as err:
            self.why_not = f"cannot create a cgroup v2 group under {base} ({err.strerror})"
            with contextlib.suppress(OSError):
                folder.rmdir()
            return
        self.folders = {"pids": folder, "memory": folder}
        self.version = 2

    def join_paths(self) -> list[str]:
        return sorted({str(folder / "cgroup.procs") for folder in self.folders.values()})

    def _event(self, controller: str, file: str, keys: tuple[str, ...]) -> bool:
        folder = self.folders.get(controller)
        if folder is None:
            return False
        with contextlib.suppress(OSError, ValueError):
            text = (folder / file).read_text()
            if self.version == 1 and file == "memory.failcnt":
                return int(text) > 0
            counts = dict(line.split() for line in text.splitlines() if line.strip())
            return any(int(counts.get(k, 0)) > 0 for k in keys)
        return False

    def hit_memory_limit(self) -> bool:
        if self.version == 1:
            return self._event("memory", "memory.failcnt", ())
        return self._event("memory", "memory.events", ("oom", "oom_kill"))

    def hit_process_limit(self) -> bool:
        return self._event("pids", "pids.events", ("max",))

    def remove(self) -> None:
        for folder in dict.fromkeys(self.folders.values()):
            with contextlib.suppress(OSError):
                for pid in (folder / "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(int(pid), 9)
            for _ in range(50):
                with contextlib.suppress(OSError):
                    folder.rmdir()
                    break
                time.sleep(0.05)


def _v1_writable(root: Path, controller: str) -> bool:
    folder = root / controller
    return folder.is_dir() and not (root / "cgroup.controllers").exists() and os.access(folder, os.W_OK)
