"""A confined child's processes as the harness sees them from the host's /proc: nothing the child does to itself
can hide them or change what is read here.

Every process a candidate starts stays a descendant of the command the harness launched (bubblewrap or unshare):
an orphan is re-parented to the PID namespace's init, which is that command's descendant too. So the harness
takes the descendants present when the worker says it is ready as the sandbox's own (bubblewrap, its init, the
worker; or unshare and the worker), and judges any later one by where it lives: a process in another session than
the worker's (`setsid`, a daemon), or one re-parented to the namespace's init, has left the worker's process tree,
and outlives the call by design. An idle pool the worker still owns (inductor's compile workers) has not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class HostProcess:
    pid: int
    ppid: int
    session: int
    name: str

    def describe(self) -> str:
        return f"process {self.pid} ({self.name})"


def _read(stat: Path) -> HostProcess | None:
    try:
        text = stat.read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):  # exited, not yet reaped: nothing runs
        return None
    return HostProcess(int(stat.parent.name), int(fields[1]), int(fields[3]), name)


def descendants(root: int, proc: Path = PROC) -> dict[int, HostProcess]:
    """`root` and every living process below it, by pid."""
    everything = [p for entry in proc.iterdir() if entry.name.isdigit() and (p := _read(entry / "stat"))]
    children: dict[int, list[HostProcess]] = {}
    for found in everything:
        children.setdefault(found.ppid, []).append(found)
    tree = {p.pid: p for p in everything if p.pid == root}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child.pid not in tree:
                tree[child.pid] = child
                todo.append(child.pid)
    return tree


@dataclass
class SandboxProcesses:
    """The sandbox's own processes, fixed when the worker is ready; everything later is the candidate's."""

    root: int
    own: dict[int, HostProcess]

    @classmethod
    def when_ready(cls, root: int, proc: Path = PROC) -> SandboxProcesses:
        return cls(root, descendants(root, proc))

    @property
    def worker(self) -> HostProcess | None:
        """The deepest of the sandbox's own processes: the one that runs the worker."""
        parents = {p.ppid for p in self.own.values()}
        leaves = [p for p in self.own.values() if p.pid not in parents]
        return leaves[0] if len(leaves) == 1 else None

    def detached(self, proc: Path = PROC) -> list[HostProcess]:
        """The candidate's processes that left the worker's session or were re-parented to the namespace's init."""
        worker = self.worker
        if worker is None:
            return []
        inits = set(self.own) - {worker.pid}
        return sorted(
            (
                p
                for p in descendants(self.root, proc).values()
                if p.pid not in self.own and (p.session != worker.session or p.ppid in inits)
            ),
            key=lambda p: p.pid,
        )
