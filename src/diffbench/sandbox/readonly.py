"""The first program inside the unshare fallback's private mount namespace: make the view read-only, then exec.

    python -m diffbench.sandbox.readonly --writable WORKDIR [--hide DIR ...] -- COMMAND ...

Every mount becomes read-only except the work folder (bound onto itself first, so it stays a writable mount of
its own) and /dev, /proc; each `--hide` folder is covered by an empty tmpfs; /dev/shm gets a private tmpfs.
Flags a remount must keep (nosuid, nodev, noexec, atime) are carried over, since a mount inherited from another
user namespace refuses to lose them. Then every capability is dropped (bounding, ambient, inheritable, permitted
and effective sets) and no_new_privs is set: a root child that kept CAP_SYS_ADMIN could remount the view
writable with one mount(2) call (seen 2026-12-06: it rewrote a file outside its folder). Any failure exits 126
with one line on stderr: the command never runs with a writable view or a capability. Standard library only
(it runs before the child's own imports).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_MOVE, MS_REC = 32, 1024, 2048, 4096, 8192, 16384
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
# Of the host's /dev only these reach the child, as in bubblewrap's minimal /dev, plus the GPU nodes: a uid-0
# child may write any root-owned node its mode allows (a raw disk among them) without a capability.
DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")
GPU_NODE_PREFIXES = ("nvidia", "dri")
# Kernel settings under /proc that uid 0 may write by mode alone (kernel.core_pattern runs a program as the
# host's root): read-only, as bubblewrap makes them.
PROC_READONLY = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus")

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


def minimal_dev(staging: str) -> None:
    """Replace /dev by a tmpfs holding only DEV_NODES, the GPU nodes, a private shm and the fd links: built at
    `staging` (an empty folder on a writable mount), then moved over /dev."""
    os.mkdir(staging)
    _mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NOEXEC)
    names = [n for n in DEV_NODES if os.path.exists(f"/dev/{n}")]
    names += sorted(n for n in os.listdir("/dev") if n.startswith(GPU_NODE_PREFIXES))
    for name in names:
        source, target = f"/dev/{name}", f"{staging}/{name}"
        if os.path.isdir(source):
            os.mkdir(target)
        else:
            open(target, "w").close()
        _mount(source, target, None, MS_BIND | MS_REC)
    os.mkdir(f"{staging}/shm")
    _mount("tmpfs", f"{staging}/shm", "tmpfs", MS_NOSUID | MS_NODEV)
    for link, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):  # fmt: skip
        os.symlink(target, f"{staging}/{link}")
    _mount(staging, "/dev", None, MS_MOVE)
    os.rmdir(staging)


def make_readonly(writable: str, hidden: list[str]) -> None:
    existing = mounts()
    _mount(writable, writable, None, MS_BIND | MS_REC)
    for path in hidden:
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV)
    minimal_dev(os.path.join(writable, f".sandbox-dev-{os.getpid()}"))
    for path in PROC_READONLY:
        if os.path.exists(path):
            _mount(path, path, None, MS_BIND | MS_REC)
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
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


PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}
LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _prctl(option: int, arg: int, arg3: int = 0) -> None:
    args = [ctypes.c_ulong(a) for a in (option, arg, arg3, 0, 0)]
    if _libc.prctl(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}, {arg}): {os.strerror(err)}")


def drop_capabilities() -> None:
    """No capability survives into the command: the bounding set first (it needs CAP_SETPCAP), then ambient, then
    inheritable, permitted and effective; no_new_privs so that no exec can gain any back."""
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for cap in range(last + 1):
        _prctl(PR_CAPBSET_DROP, cap)
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    number = SYS_CAPSET.get(os.uname().machine)
    if number is None:
        raise OSError(0, f"no capset system call number known for {os.uname().machine}")
    header, data = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    if _libc.syscall(ctypes.c_long(number), ctypes.byref(header), ctypes.byref(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: {os.strerror(err)}")
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


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
        drop_capabilities()
    except OSError as err:
        sys.stderr.write(f"sandbox: cannot make a read-only view: {err}\n")
        sys.exit(126)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
