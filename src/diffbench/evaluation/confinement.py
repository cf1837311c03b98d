"""How a child is confined: namespaces and a read-only file system (bubblewrap, else unshare), and limits on
memory, processes and file size (cgroups where writable, else rlimits).

`Confinement.describe()` says what holds on this machine; whatever could not be set up is a visible warning,
never a silent downgrade. Facts behind the choices (this machine, 2026-11): bubblewrap from Debian's package
works as root (read-only root, PID and network namespaces); cgroup v1 `pids` and `memory` controllers are
writable and contain a fork bomb and a memory bomb; rlimits cannot bound root's process count (the kernel
exempts root from RLIMIT_NPROC), which is why cgroups come first.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_V1 = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 8192
    processes: int = 256
    file_mb: int = 2048
    open_files: int = 4096


@functools.cache
def bubblewrap_works() -> bool:
    if shutil.which("bwrap") is None:
        return False
    probe = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all", "--", "true"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


@functools.cache
def unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "true"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def _cgroup_writable(controller: str) -> bool:
    folder = CGROUP_V1 / controller
    return folder.is_dir() and os.access(folder, os.W_OK)


def interpreter_paths() -> list[Path]:
    """What the child's Python needs that a fresh /tmp would hide: the interpreter, its prefix and every import
    path under /tmp (a checkout or virtual environment under /tmp, as CI may use)."""
    candidates = [Path(sys.executable).parent, Path(sys.prefix), Path(sys.base_prefix)]
    candidates += [Path(p) for p in sys.path if p and os.path.isabs(p)]
    candidates += [Path(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and os.path.isabs(p)]
    seen: list[Path] = []
    for path in candidates:
        resolved = path.resolve()
        for candidate in (path, resolved):
            if candidate.is_relative_to("/tmp") and candidate.exists() and candidate not in seen:
                seen.append(candidate)
    return seen


@dataclass
class Cgroups:
    """Per-child cgroup v1 folders for the pids and memory controllers (whichever are writable)."""

    name: str
    folders: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def create(cls, limits: Limits) -> Cgroups:
        groups = cls(f"diffbench-{uuid.uuid4().hex[:12]}")
        settings = {
            "pids": {"pids.max": str(limits.processes)},
            "memory": {"memory.limit_in_bytes": str(limits.memory_mb * 1024 * 1024), "memory.swappiness": "0"},
        }
        for controller, values in settings.items():
            if not _cgroup_writable(controller):
                continue
            folder = CGROUP_V1 / controller / groups.name
            try:
                folder.mkdir()
                for key, value in values.items():
                    with contextlib.suppress(OSError):  # swappiness is not everywhere
                        (folder / key).write_text(value)
                groups.folders[controller] = folder
            except OSError:
                continue
        return groups

    def join_paths(self) -> list[str]:
        return [str(folder / "cgroup.procs") for folder in self.folders.values()]

    def hit_memory_limit(self) -> bool:
        folder = self.folders.get("memory")
        if folder is None:
            return False
        with contextlib.suppress(OSError, ValueError):
            return int((folder / "memory.failcnt").read_text()) > 0
        return False

    def hit_process_limit(self) -> bool:
        folder = self.folders.get("pids")
        if folder is None:
            return False
        with contextlib.suppress(OSError, ValueError):
            return int((folder / "pids.events").read_text().split()[-1]) > 0
        return False

    def remove(self) -> None:
        for folder in self.folders.values():
            procs = folder / "cgroup.procs"
            with contextlib.suppress(OSError):
                for pid in procs.read_text().split():
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(int(pid), 9)
            for _ in range(50):
                with contextlib.suppress(OSError):
                    folder.rmdir()
                    break
                time.sleep(0.05)


def preexec(cgroup_procs: list[str], limits: Limits, bound_memory_by_rlimit: bool) -> Callable[[], None]:
    """What the child runs between fork and exec: join its cgroups, then set its rlimits."""

    def run() -> None:
        pid = str(os.getpid())
        for path in cgroup_procs:
            with open(path, "w") as f:
                f.write(pid)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        size = limits.file_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        if bound_memory_by_rlimit:  # address space, not resident memory: torch reserves much it never touches
            space = limits.memory_mb * 3 * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (space, space))

    return run


@dataclass
class Confinement:
    """Everything that wraps one child: the command prefix, the pre-exec hook and the cgroups to clean up."""

    workdir: Path
    limits: Limits = field(default_factory=Limits)
    readable: tuple[Path, ...] = ()  # extra read-only paths to keep visible (the model store) when /tmp is hidden
    hidden: tuple[Path, ...] = ()  # the harness's own folders: replaced by empty ones in the child's view
    isolate_network: bool = True
    cgroups: Cgroups | None = None
    warnings: list[str] = field(default_factory=list)

    def prefix(self) -> list[str]:
        if not self.isolate_network:
            return []
        if bubblewrap_works():
            args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
            for path in (*self.readable, *interpreter_paths()):
                if path.exists():
                    args += ["--ro-bind", str(path), str(path)]
            for path in self.hidden:
                if path.exists():
                    args += ["--tmpfs", str(path)]
            args += ["--bind", str(self.workdir), str(self.workdir), "--chdir", str(self.workdir)]
            return [*args, "--unshare-all", "--die-with-parent", "--new-session", "--"]
        if unshare_works():
            self.warnings.append("bubblewrap unavailable: no read-only file system; network and PID namespaces only")
            return ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "--"]
        self.warnings.append("no namespaces available (bubblewrap and unshare failed): the child has network access")
        return []

    def start(self) -> Callable[[], None]:
        self.cgroups = Cgroups.create(self.limits)
        missing = {"pids", "memory"} - set(self.cgroups.folders)
        if "pids" in missing:
            self.warnings.append("no writable pids cgroup: the process count is not bounded")
        if "memory" in missing:
            self.warnings.append("no writable memory cgroup: memory bounded by address space (RLIMIT_AS) only")
        for line in self.warnings:
            warnings.warn(f"sandbox: {line}", stacklevel=3)
        return preexec(self.cgroups.join_paths(), self.limits, "memory" in missing)

    def finish(self) -> None:
        if self.cgroups is not None:
            self.cgroups.remove()

    def describe(self) -> dict[str, object]:
        return {
            "namespaces": "bubblewrap" if bubblewrap_works() else "unshare" if unshare_works() else "none",
            "cgroups": sorted(self.cgroups.folders) if self.cgroups else [],
            "warnings": list(self.warnings),
        }
