"""Hostile solution modules in a judging session: each is contained or rejected, and the harness goes on.

Each candidate (tests/fixtures/candidates) runs in a confined worker (bubblewrap or unshare, cgroups where
writable). The checks need the confinement this machine offers; where a mechanism is missing the test says so
instead of passing vacuously."""

import os
import socket
import time
import uuid
from pathlib import Path

import pytest

from conftest import FIXTURES
from diffbench.evaluation.behaviour import containment_problem
from diffbench.sandbox.confinement import Limits, bubblewrap_works
from diffbench.sandbox.session import SessionError, WorkerSession
from test_sandbox import processes_with

CANDIDATES = FIXTURES / "candidates"
ENV = {"PYTHONPATH": str(CANDIDATES)}
SMALL = Limits(memory_mb=1536, processes=64)
needs_bwrap = pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap is not installed here")
needs_cgroups = pytest.mark.skipif(
    not all(os.access(f"/sys/fs/cgroup/{c}", os.W_OK) for c in ("pids", "memory")), reason="no writable cgroups"
)


def prepare(tmp_path: Path, name: str, **subs: str) -> tuple[Path, Path]:
    work = tmp_path / "work"
    work.mkdir(parents=True)
    source = (CANDIDATES / f"{name}.py").read_text()
    for key, value in subs.items():
        source = source.replace(f"__{key}__", value)
    module = work / "candidate.py"
    module.write_text(source)
    return work, module


def load(session: WorkerSession, module: Path, timeout_s: float = 60) -> dict:
    answer, _ = session.call({"op": "load", "module": str(module), "device": "cpu"}, timeout_s)
    return answer


def test_an_infinite_loop_times_out_and_the_next_session_works(tmp_path):
    work, module = prepare(tmp_path, "infinite_loop")
    with WorkerSession(work, ENV, SMALL) as session, pytest.raises(SessionError) as err:
        load(session, module, timeout_s=15)
    assert err.value.kind == "timeout"
    work2, module2 = prepare(tmp_path / "next", "idle_side_thread")
    with WorkerSession(work2, ENV, SMALL) as session:
        assert load(session, module2)["ok"]


@needs_cgroups
def test_a_memory_bomb_hits_the_memory_limit(tmp_path):
    work, module = prepare(tmp_path, "memory_bomb")
    with WorkerSession(work, ENV, SMALL) as session, pytest.raises(SessionError) as err:
        load(session, module, timeout_s=60)
    assert err.value.kind == "memory"


@needs_cgroups
def test_a_fork_bomb_hits_the_process_limit_and_leaves_nothing(tmp_path):
    work, module = prepare(tmp_path, "fork_bomb")
    with WorkerSession(work, ENV, SMALL) as session, pytest.raises(SessionError) as err:
        load(session, module, timeout_s=20)
    assert err.value.kind == "processes"


def test_a_grandchild_in_its_own_session_dies_with_the_session(tmp_path):
    token = f"diffbench-hostile-{uuid.uuid4().hex}"
    work, module = prepare(tmp_path, "setsid_grandchild", TOKEN=token)
    with WorkerSession(work, ENV, SMALL) as session:
        answer = load(session, module)
        assert answer["ok"] and processes_with(token), "the grandchild should be running while the session lives"
        assert containment_problem(answer).startswith("rule detached-process: ")  # and it is named
    deadline = time.time() + 5
    while processes_with(token) and time.time() < deadline:
        time.sleep(0.1)
    assert processes_with(token) == []


def test_no_network(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.5)
        work, module = prepare(tmp_path, "network", PORT=str(server.getsockname()[1]))
        with WorkerSession(work, ENV, SMALL) as session:
            answer = load(session, module)
        assert not answer["ok"] and ("refused" in answer["error"] or "unreachable" in answer["error"])
        with pytest.raises(TimeoutError):
            server.accept()


def test_api_keys_do_not_reach_the_candidate(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    work, module = prepare(tmp_path, "env_secrets")
    with WorkerSession(work, ENV, SMALL) as session:
        answer = load(session, module)
    assert answer["error"] == "RuntimeError: secrets found: {}"


def test_writing_outside_its_folder_fails(tmp_path, read_only_sandbox):
    target = Path(__file__).parent / f"written-by-candidate-{uuid.uuid4().hex}.txt"
    work, module = prepare(tmp_path, "write_outside", TARGET=str(target))
    with WorkerSession(work, ENV, SMALL) as session:
        answer = load(session, module)
        assert session.confinement.mode == read_only_sandbox
    assert not answer["ok"] and "Read-only file system" in answer["error"]
    assert not target.exists()
    assert answer["attempts"] == [f"open {str(target)!r} for writing"]


def test_the_installed_harness_cannot_be_rewritten(tmp_path, read_only_sandbox):
    """The attack seen on a GPU machine: a candidate rewrote the installed metrics.py for every later judge."""
    import diffbench.evaluation.metrics as metrics

    before = Path(metrics.__file__).read_bytes()
    work, module = prepare(tmp_path, "write_outside", TARGET=metrics.__file__)
    with WorkerSession(work, ENV, SMALL) as session:
        answer = load(session, module)
    assert not answer["ok"] and "Read-only file system" in answer["error"]
    assert Path(metrics.__file__).read_bytes() == before


def test_the_harness_cache_is_invisible(tmp_path, read_only_sandbox):
    cache = tmp_path / "baseline-cache"
    cache.mkdir()
    (cache / "baseline-images.npz").write_bytes(b"secret")
    work, module = prepare(tmp_path, "read_harness_cache", HIDDEN=str(cache))
    with WorkerSession(work, ENV, SMALL, hidden=(cache,)) as session:
        answer = load(session, module)
    assert answer["error"] == "RuntimeError: listing: []"


def test_patching_the_clock_gains_nothing(tmp_path):
    work, module = prepare(tmp_path, "patched_clock")
    with WorkerSession(work, ENV, SMALL) as session:
        assert load(session, module)["ok"]
        answer, waited = session.call({"op": "generate", "request": {"seed": 3}, "save_as": "out"}, 30)
    assert answer["ok"] and answer["seconds"] >= 0.45
    assert waited >= answer["seconds"]


def generate_twice(tmp_path: Path, name: str) -> list[dict]:
    work, module = prepare(tmp_path, name)
    with WorkerSession(work, ENV, SMALL) as session:
        assert load(session, module)["ok"]
        return [session.call({"op": "generate", "request": {"seed": s}, "save_as": f"out{s}"}, 30)[0] for s in (1, 2)]


def test_idle_threads_left_behind_are_not_side_work(tmp_path):
    """A sleeping monitor thread and an idle worker pool, as tqdm and inductor leave them, pass."""
    answers = generate_twice(tmp_path, "idle_side_thread")
    assert all(a["ok"] and a["side_work"] == [] for a in answers)


def test_a_thread_that_keeps_computing_is_side_work_whatever_its_name(tmp_path):
    first, _ = generate_twice(tmp_path, "busy_side_thread")
    assert first["ok"] and first["side_work"], first
    assert "tqdm_monitor" in first["side_work"][0]["what"] and first["side_work"][0]["cpu_s"] >= 0.05


def test_a_process_that_keeps_computing_is_side_work(tmp_path):
    first, _ = generate_twice(tmp_path, "busy_side_process")
    assert first["ok"] and any(w["what"].startswith("process") for w in first["side_work"]), first


def test_a_crash_is_an_answer_and_the_session_goes_on(tmp_path):
    work, module = prepare(tmp_path, "crash_in_generate")
    with WorkerSession(work, ENV, SMALL) as session:
        assert load(session, module)["ok"]
        first, _ = session.call({"op": "generate", "request": {"seed": 1}, "save_as": "a"}, 30)
        second, _ = session.call({"op": "generate", "request": {"seed": 2}, "save_as": "b"}, 30)
    assert first == {**first, "ok": False, "error": "ValueError: first call fails"}
    assert second["ok"] and Path(second["images"][0]).is_file() and second["sizes"] == [[64, 64]]
