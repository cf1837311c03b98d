"""How a child is confined: namespaces and a read-only file system, and limits on memory, processes and file size.

File system and namespaces, best first:
1. bubblewrap: read-only root, fresh /tmp, own PID/network/IPC namespaces, the harness's folders hidden, and of
   the host's /dev only the GPU nodes (`/dev/nvidia*`, `/dev/dri`) added to bubblewrap's minimal /dev;
2. without it (not installed, or user namespaces restricted): `unshare` with a mount namespace in which
   `diffbench.sandbox.readonly` remounts every mount read-only except the work folder, hides the harness's
   folders, then execs the child (own PID and network namespaces too);
3. neither: the harness refuses to run untrusted code (`SandboxUnavailableError`) unless the user said
   `--unsafe-unconfined` (`allow_unconfined()`), and then every result carries the warning.

Limits: a cgroup per child (cgroups.py) where a cgroup tree is writable (v1 `pids` and `memory`, or a v2 group
with `pids.max` and `memory.max`), else rlimits, with a visible warning saying what is not bounded.
`Confinement.describe()` says what holds on this machine.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from diffbench.errors import DiffbenchError
from diffbench.sandbox.cgroups import Cgroups, Limits
from diffbench.sandbox.readonly import DEV_NODES, PROC_READONLY

UNCONFINED_VARIABLE = "DIFFBENCH_UNSAFE_UNCONFINED"
SANDBOX_VARIABLE = "DIFFBENCH_SANDBOX"  # "mount-namespace": skip bubblewrap (hosts where it misbehaves; the GPU check)


class SandboxUnavailableError(DiffbenchError, RuntimeError):
    """No way to give untrusted code a read-only view of this machine, and the user did not accept the risk."""


def allow_unconfined() -> None:
    """The user's explicit choice to run candidates with a writable file system where nothing better exists.
    An environment variable, so that the harness's own children (agent smoke tests, Ray jobs) inherit it."""
    os.environ[UNCONFINED_VARIABLE] = "1"


def unconfined_allowed() -> bool:
    return os.environ.get(UNCONFINED_VARIABLE) == "1"


# ---- namespaces --------------------------------------------------------------------------------------------
@functools.cache
def bubblewrap_works() -> bool:
    """bubblewrap is installed and runs here (and DIFFBENCH_SANDBOX=mount-namespace did not rule it out)."""
    if os.environ.get(SANDBOX_VARIABLE) == "mount-namespace" or shutil.which("bwrap") is None:
        return False
    probe = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--cap-drop", "ALL"]
    probe += ["--unshare-all", "--", "true"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


@functools.cache
def unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "true"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def _readonly_prefix(workdir: Path, hidden: tuple[Path, ...]) -> list[str]:
    args = ["unshare", "--mount", "--propagation", "private", "--net", "--pid", "--fork", "--kill-child"]
    args += ["--mount-proc", "--", sys.executable, "-m", "diffbench.sandbox.readonly", "--writable", str(workdir)]
    for path in hidden:
        if path.exists():
            args += ["--hide", str(path)]
    return [*args, "--"]


@functools.cache
def readonly_namespace_works() -> bool:
    """Whether the unshare fallback really gives a read-only view: a probe child must fail to write outside its
    work folder and succeed inside it, and hold no capability."""
    if not unshare_works():
        return False
    with tempfile.TemporaryDirectory(prefix="diffbench-probe-") as tmp:
        work, outside = Path(tmp) / "work", Path(tmp) / "outside"
        work.mkdir()
        outside.mkdir()
        script = (
            "import pathlib,sys\n"
            f"pathlib.Path({str(work / 'in')!r}).write_text('x')\n"
            f"try: pathlib.Path({str(outside / 'out')!r}).write_text('x')\n"
            "except OSError: pass\n"
            "else: sys.exit(3)\n"
            "caps = [ln.split()[1] for ln in open('/proc/self/status') if ln.startswith(('CapEff', 'CapBnd'))]\n"
            "sys.exit(0 if caps and all(int(c, 16) == 0 for c in caps) else 4)\n"
        )
        cmd = [*_readonly_prefix(work, ()), sys.executable, "-c", script]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        ok = subprocess.run(cmd, capture_output=True, check=False, env=env).returncode == 0
        return ok and (work / "in").is_file() and not (outside / "out").exists()


def gpu_device_nodes(dev: Path = Path("/dev")) -> list[Path]:
    """The host's GPU device nodes: NVIDIA's (`nvidia0`, `nvidiactl`, `nvidia-uvm`, `nvidia-caps/`, ...) and DRI."""
    nodes = sorted(dev.glob("nvidia*"))
    if (dev / "dri").exists():
        nodes.append(dev / "dri")
    return nodes


def gpu_binds(dev: Path = Path("/dev")) -> list[str]:
    """bubblewrap arguments that add the GPU nodes, and nothing else of the host's /dev, to the child's /dev."""
    args: list[str] = []
    for node in gpu_device_nodes(dev):
        target = Path("/dev") / node.relative_to(dev)
        args += ["--dev-bind", str(node), str(target)]
    return args


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


# ---- one child's confinement -------------------------------------------------------------------------------
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
    mode: str = ""

    def prefix(self) -> list[str]:
        """The command prefix; raises SandboxUnavailableError when nothing read-only can be made here."""
        if not self.isolate_network:
            self.mode = "none (trusted)"
            return []
        if bubblewrap_works():
            self.mode = "bubblewrap"
            args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", *gpu_binds(), "--proc", "/proc"]
            for path in PROC_READONLY:  # a uid-0 child may write kernel settings by mode alone (core_pattern)
                if Path(path).exists():
                    args += ["--ro-bind", path, path]
            args += ["--tmpfs", "/tmp"]
            for path in (*self.readable, *interpreter_paths()):
                if path.exists():
                    args += ["--ro-bind", str(path), str(path)]
            for path in self.hidden:
                if path.exists():
                    args += ["--tmpfs", str(path)]
            args += ["--bind", str(self.workdir), str(self.workdir), "--chdir", str(self.workdir)]
            # --cap-drop ALL: bubblewrap run as root keeps every capability otherwise, and CAP_SYS_ADMIN remounts
            # the read-only view writable (seen 2026-12-06).
            args += ["--cap-drop", "ALL"]
            return [*args, "--unshare-all", "--die-with-parent", "--new-session", "--"]
        if readonly_namespace_works():
            self.mode = "mount namespace"
            self.warnings.append(
                "bubblewrap unavailable: read-only mount namespace (unshare) instead; /tmp is visible, read-only"
            )
            return _readonly_prefix(self.workdir, self.hidden)
        if not unconfined_allowed():
            raise SandboxUnavailableError(
                "no read-only sandbox for untrusted code on this machine: bubblewrap is missing or fails, and "
                "`unshare --mount` cannot make a read-only view; install bubblewrap (apt-get install bubblewrap), "
                "or pass --unsafe-unconfined to run candidates with a writable file system"
            )
        self.mode = "UNSAFE: writable file system"
        if unshare_works():
            self.warnings.append("UNSAFE (--unsafe-unconfined): writable file system; network and PID namespaces")
            return ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "--"]
        self.warnings.append("UNSAFE (--unsafe-unconfined): no namespaces at all; the child has network access")
        return []

    def private_folders(self) -> list[str]:
        """What the child may write besides its work folder: the device nodes of its minimal /dev and its private
        /dev/shm under both read-only mechanisms, and its own /tmp under bubblewrap. Nothing more under an
        unsafe run (the audit record then names any write elsewhere)."""
        dev = [f"/dev/{name}" for name in (*DEV_NODES, "shm")] + [str(node) for node in gpu_device_nodes()]
        if self.mode == "bubblewrap":
            return ["/tmp", *dev]
        return dev if self.mode == "mount namespace" else []

    def read_only_binds(self) -> list[str]:
        """What bubblewrap binds read-only or hides inside the child's private /tmp (a checkout, a virtual
        environment, the model store, the harness's folders under /tmp): not writable although /tmp is."""
        if self.mode != "bubblewrap":
            return []
        paths = [*self.readable, *interpreter_paths(), *self.hidden]
        return [str(p) for p in paths if Path(p).is_relative_to("/tmp")]

    def child_tmpdir(self) -> str | None:
        """Where the child's temporary files go when /tmp is not its own (the mount-namespace fallback)."""
        return None if self.mode == "bubblewrap" else str(self.workdir)

    def start(self) -> Callable[[], None]:
        self.cgroups = Cgroups.create(self.limits)
        missing = {"pids", "memory"} - set(self.cgroups.folders)
        why = f" ({self.cgroups.why_not})" if self.cgroups.why_not else ""
        if "pids" in missing:
            self.warnings.append(f"no writable pids cgroup{why}: the process count is not bounded")
        if "memory" in missing:
            self.warnings.append(f"no writable memory cgroup{why}: memory bounded by address space (RLIMIT_AS) only")
        for line in self.warnings:
            warnings.warn(f"sandbox: {line}", stacklevel=3)
        return preexec(self.cgroups.join_paths(), self.limits, "memory" in missing)

    def finish(self) -> None:
        if self.cgroups is not None:
            self.cgroups.remove()

    def describe(self) -> dict[str, object]:
        return {
            "namespaces": self.mode or ("bubblewrap" if bubblewrap_works() else "unknown"),
            "cgroups": sorted(self.cgroups.folders) if self.cgroups else [],
            "cgroup_version": self.cgroups.version if self.cgroups else 0,
            "warnings": list(self.warnings),
        }
