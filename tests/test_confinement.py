"""How children are confined on machines as they are: GPU nodes and variables passed on, cgroup v1 or v2, and
without bubblewrap a read-only mount namespace or a refusal (never a writable file system by default). The hostile
candidates run under both read-only mechanisms in test_sandbox_hostile.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import FIXTURES
from diffbench.sandbox import confinement
from diffbench.sandbox.cgroups import Cgroups, Limits, cgroup2_base
from diffbench.sandbox.confinement import SandboxUnavailableError, gpu_binds
from diffbench.sandbox.oneshot import run_module
from diffbench.sandbox.session import WorkerSession
from test_sandbox_hostile import ENV, SMALL, load, prepare

CHILDREN = {"PYTHONPATH": str(FIXTURES / "children")}
needs_bwrap = pytest.mark.skipif(not confinement.bubblewrap_works(), reason="bubblewrap is not installed here")


# ---- GPUs ----------------------------------------------------------------------------------------------------
def test_only_the_gpu_nodes_of_dev_are_bound(tmp_path):
    dev = tmp_path / "dev"
    for name in ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm", "kvm", "sda", "fuse"):
        (dev / name).parent.mkdir(parents=True, exist_ok=True)
        (dev / name).touch()
    (dev / "nvidia-caps").mkdir()
    (dev / "dri").mkdir()
    args = gpu_binds(dev)
    bound = [args[i + 2] for i in range(0, len(args), 3)]
    assert args[::3] == ["--dev-bind"] * len(bound)
    assert bound == [
        "/dev/nvidia-caps",
        "/dev/nvidia-uvm",
        "/dev/nvidia0",
        "/dev/nvidia1",
        "/dev/nvidiactl",
        "/dev/dri",
    ]
    assert gpu_binds(tmp_path / "no-gpu") == []


@needs_bwrap
def test_a_bubblewrap_child_sees_a_minimal_dev_and_the_device_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")  # what Ray sets for a job given GPU 3
    monkeypatch.setenv("NVIDIA_VISIBLE_DEVICES", "all")
    monkeypatch.setenv("NVIDIA_API_KEY", "nvapi-secret")  # a key with the prefix still does not pass
    outcome = run_module("device_view", [], tmp_path, CHILDREN, timeout_s=30)
    env = outcome.result["env"]
    assert env.pop("CUDA_CACHE_PATH") == str(tmp_path.resolve() / ".cache" / "nv")  # its own folder: home is read-only
    assert env == {"CUDA_VISIBLE_DEVICES": "3", "NVIDIA_VISIBLE_DEVICES": "all"}
    assert "null" in outcome.result["dev"] and "kvm" not in outcome.result["dev"]  # nothing else of the host's /dev
    assert Path("/dev/kvm").exists() or Path("/dev/tty0").exists()  # the test can fail: the host has more
    assert "tty0" not in outcome.result["dev"]


# ---- cgroups -------------------------------------------------------------------------------------------------
def fake_v2(tmp_path: Path, controllers: str, enabled: str = "") -> Path:
    base = tmp_path / "unified" / "system.slice" / "harness"
    base.mkdir(parents=True)
    (base / "cgroup.controllers").write_text(controllers + "\n")
    (base / "cgroup.subtree_control").write_text(enabled)
    return base


def test_cgroup_v2_group_with_pids_and_memory_limits(tmp_path):
    base = fake_v2(tmp_path, "cpuset cpu io memory pids")
    groups = Cgroups.create(Limits(memory_mb=100, processes=7), root=tmp_path / "no-v1", v2_base=base)
    folder = base / groups.name
    assert groups.version == 2 and groups.folders == {"pids": folder, "memory": folder}
    assert (base / "cgroup.subtree_control").read_text() == "+pids +memory"  # delegated to the child groups
    assert (folder / "pids.max").read_text() == "7" and (folder / "memory.max").read_text() == str(100 << 20)
    assert groups.join_paths() == [str(folder / "cgroup.procs")]
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 0\noom_kill 0\n")
    (folder / "pids.events").write_text("max 0\n")
    assert not groups.hit_memory_limit() and not groups.hit_process_limit()
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n")
    (folder / "pids.events").write_text("max 2\n")
    assert groups.hit_memory_limit() and groups.hit_process_limit()


def test_cgroup_v2_without_the_controllers_says_why(tmp_path):
    base = fake_v2(tmp_path, "cpu io memory")
    groups = Cgroups.create(Limits(), root=tmp_path / "no-v1", v2_base=base)
    assert groups.version == 0 and groups.folders == {} and "offers no pids controller" in groups.why_not
    busy = fake_v2(tmp_path / "busy", "memory pids")
    (busy / "cgroup.subtree_control").unlink()
    (busy / "cgroup.subtree_control").mkdir()  # writing it fails, as EBUSY does for a group that holds processes
    groups = Cgroups.create(Limits(), root=tmp_path / "no-v1", v2_base=busy)
    assert groups.version == 0 and "cannot enable pids, memory for child groups" in groups.why_not


def test_cgroup2_base_is_this_process_group_in_the_v2_mount(tmp_path):
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "25 1 0:23 / / rw,relatime - overlay overlay rw\n"
        "41 31 0:38 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
    )
    own = tmp_path / "cgroup"
    own.write_text("0::/system.slice/job.scope\n")
    assert cgroup2_base(mountinfo, own) == Path("/sys/fs/cgroup/system.slice/job.scope")
    mountinfo.write_text("25 1 0:23 / / rw,relatime - overlay overlay rw\n")
    assert cgroup2_base(mountinfo, own) is None


@pytest.mark.skipif(not os.access("/sys/fs/cgroup/pids", os.W_OK), reason="no writable cgroup v1 here")
def test_this_machines_cgroup_v1_controllers_are_used(tmp_path):
    groups = Cgroups.create(Limits(processes=11))
    try:
        assert groups.version == 1 and set(groups.folders) == {"pids", "memory"}
        assert (groups.folders["pids"] / "pids.max").read_text().strip() == "11"
    finally:
        groups.remove()
    assert not any(folder.exists() for folder in groups.folders.values())


# ---- without bubblewrap ----------------------------------------------------------------------------------------
@pytest.fixture
def no_bubblewrap(monkeypatch):
    monkeypatch.setattr(confinement, "bubblewrap_works", lambda: False)


def test_with_no_read_only_view_the_harness_refuses_unless_told_otherwise(tmp_path, no_bubblewrap, monkeypatch):
    monkeypatch.setattr(confinement, "readonly_namespace_works", lambda: False)
    monkeypatch.delenv(confinement.UNCONFINED_VARIABLE, raising=False)
    work, module = prepare(tmp_path, "idle_side_thread")
    with pytest.raises(SandboxUnavailableError, match=r"no read-only sandbox .* --unsafe-unconfined"):
        WorkerSession(work, ENV, SMALL).start()
    monkeypatch.setenv(confinement.UNCONFINED_VARIABLE, "1")
    with pytest.warns(UserWarning, match="UNSAFE"), WorkerSession(work, ENV, SMALL) as session:
        assert load(session, module)["ok"]
        assert session.confinement.describe()["namespaces"] == "UNSAFE: writable file system"
