"""The first program inside the unshare fallback's private mount namespace: make the view read-only, then exec.

    python -m diffbench.sandbox.readonly --writable WORKDIR [--hide DIR ...] -- COMMAND ...

Every mount becomes read-only except the work folder (bound onto itself first, so it stays a writable mount of
its own) and /dev, /proc; each `--hide` folder is covered by an empty tmpfs; /dev/shm gets a private tmpfs.
Flags a remount must keep (nosuid, nodev, noexec, atime) are carried over, since a mount inherited from another
user namespace refuses to lose them. Any failure exits 126 with one line on stderr: the command never runs with
a writable view. Standard library only (it runs before the child's own imports).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_RELATIME, MS_STRICTATIME = 1 << 21, 1 << 24
KEPT_FLAGS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}
WRITABLE_TREES = ("/dev", "/proc")

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str | None, target: str, fstype: str | None, flags: int) -> None:
    enc = [None if s is None else s.encode() for s in (source, target, fstype)]
    if _libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def _unescape(field: str) -> str:
    """mountinfo writes spaces, tabs, newlines and backslashes as octal escapes."""
    return field.encode().decode("unicode_escape").encode("latin-1").decode()


def mounts() -> list[tuple[str, int]]:
    """(mount point, flags a remount must keep) of every mount in this namespace."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            flags = sum(KEPT_FLAGS.get(opt, 0) for opt in fields[5].split(","))
            found.append((_unescape(fields[4]), flags))
    return found


def _inside(path: str, tree: str) -> bool:
    return path == tree or path.startswith(tree.rstrip("/") + "/")


def make_readonly(writable: str, hidden: list[str]) -> None:
    existing = mounts()
    _mount(writable, writable, None, MS_BIND | MS_REC)
    for path in hidden:
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV)
    for point, flags in existing:
        if _inside(point, writable) or any(_inside(point, t) for t in WRITABLE_TREES):
            continue
        if any(_inside(point, h) for h in hidden):
            continue
        try:
            _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)
        except OSError as err:
            if err.errno in (2, 13) and point != "/":  # a mount point hidden or unreachable in this view
                continue
            raise


def main() -> None:
    parser = argparse.ArgumentParser(prog="diffbench.sandbox.readonly")
    parser.add_argument("--writable", required=True)
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")
    try:
        make_readonly(os.path.realpath(args.writable), [os.path.realpath(h) for h in args.hide])
    except OSError as err:
        sys.stderr.write(f"sandbox: cannot make a read-only view: {err}\n")
        sys.exit(126)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
