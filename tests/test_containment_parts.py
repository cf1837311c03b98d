"""The parts of the containment rules that need no sandbox: the harness's view of a child's processes (on a fake
/proc), the audit record of attempts (fed audit events), and how an answer's facts become a named rule."""

from __future__ import annotations

import os
from pathlib import Path

from diffbench.evaluation.attempts import AttemptRecorder
from diffbench.evaluation.behaviour import behaviour_problem, behaviour_warnings, containment_problem
from diffbench.sandbox.processes import SandboxProcesses, descendants


def fake_proc(tmp_path: Path, table: dict[int, tuple[int, int, str, str]]) -> Path:
    """pid -> (ppid, session, name, state) as /proc/PID/stat files."""
    proc = tmp_path / "proc"
    for pid, (ppid, session, name, state) in table.items():
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "stat").write_text(f"{pid} ({name}) {state} {ppid} {pid} {session} 0 -1 0 0 0\n")
    (proc / "self").mkdir()
    return proc


# the sandbox as bubblewrap starts it: bwrap (100, its own session) -> its init (101, new session) -> worker (102)
SANDBOX = {
    1: (0, 1, "init", "S"),
    100: (1, 100, "bwrap", "S"),
    101: (100, 101, "bwrap", "S"),
    102: (101, 101, "python", "S"),
}


def test_the_sandbox_own_processes_and_the_worker_are_fixed_when_ready(tmp_path):
    proc = fake_proc(tmp_path, SANDBOX | {7: (1, 7, "sshd", "S")})
    seen = SandboxProcesses.when_ready(100, proc)
    assert set(seen.own) == {100, 101, 102} and seen.worker.pid == 102
    assert seen.detached(proc) == []


def test_a_process_in_another_session_or_re_parented_to_the_init_is_detached_and_a_pool_is_not(tmp_path):
    seen = SandboxProcesses.when_ready(100, fake_proc(tmp_path / "ready", SANDBOX))
    later = fake_proc(
        tmp_path / "later",
        SANDBOX
        | {
            103: (102, 101, "compile_worker", "S"),  # a pool the worker owns, in its session
            104: (102, 104, "python", "S"),  # setsid
            105: (101, 101, "python", "S"),  # orphaned, re-parented to bubblewrap's init
            106: (103, 106, "python", "Z"),  # exited: nothing runs
        },
    )
    assert [p.pid for p in seen.detached(later)] == [104, 105]
    assert sorted(descendants(100, later)) == [100, 101, 102, 103, 104, 105]


def test_the_audit_record_reads_writes_outside_and_lookups_of_sandbox_calls(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    private = tmp_path / "private"  # as bubblewrap's /tmp, with a checkout bound read-only inside it
    recorder = AttemptRecorder(str(work), ["/dev/null", str(private)], read_only=[str(private / "checkout")])
    recorder.active = True
    recorder.hook("open", (str(work / "image.png"), "wb", os.O_WRONLY | os.O_CREAT))  # its own folder
    recorder.hook("open", ("/etc/passwd", "r", os.O_RDONLY))  # reading is fine
    recorder.hook("open", ("/dev/null", None, os.O_RDWR))  # subprocess.DEVNULL
    recorder.hook("open", (3, "w", os.O_WRONLY))  # a file descriptor, judged when it was opened
    assert recorder.take() == []
    recorder.hook("open", ("/usr/lib/python3/x.py", "a", os.O_WRONLY | os.O_APPEND))
    recorder.hook("os.rename", (str(work / "a"), "/etc/b", None, None))
    recorder.hook("os.mkdir", (str(work / ".." / "escape"), 0o777, None))  # .. resolved
    recorder.hook("ctypes.dlsym", (0, b"mount"))
    recorder.hook("ctypes.dlsym", (0, "gettid"))  # an ordinary lookup
    recorder.hook("open", (str(private / "scratch"), "w", os.O_WRONLY))  # a private folder
    recorder.hook("open", (str(private / "checkout" / "x.py"), "w", os.O_WRONLY))  # bound read-only inside it
    assert recorder.take() == [
        "open '/usr/lib/python3/x.py' for writing",
        "rename '/etc/b'",
        f"mkdir {str(work / '..' / 'escape')!r}",
        "look up the C function mount() through ctypes",
        f"open {str(private / 'checkout' / 'x.py')!r} for writing",
    ]
    assert recorder.take() == []


def test_an_answer_facts_become_one_named_rule_and_the_child_cannot_write_the_harness_part():
    clean = {"ok": True, "attempts": [], "harness": {"process_limit_hit": False, "detached_processes": []}}
    assert containment_problem(clean) is None
    assert containment_problem({**clean, "attempts": ["open '/x' for writing"]}).startswith("rule sandbox-attempt:")
    flood = {**clean, "harness": {"process_limit_hit": True, "process_limit": 64, "detached_processes": []}}
    assert containment_problem(flood).startswith("rule process-limit: the solution tried to run more than 64")
    left = {**clean, "harness": {"process_limit_hit": False, "detached_processes": ["process 9 (sleep)"]}}
    assert containment_problem(left).startswith("rule detached-process: the solution left process 9 (sleep)")


def test_an_inert_method_fails_where_asked_and_warns_where_not():
    inert = {"rule": "effect-fused-projection", "took_effect": False, "evidence": "0 fused projection calls"}
    answer = {"observed": {"effects": {"qkv_fusion": inert, "tgate": {**inert, "took_effect": True}}}}
    assert behaviour_problem(answer, {"qkv_fusion"}).startswith("rule effect-fused-projection: qkv_fusion")
    assert behaviour_problem(answer, {"tgate"}) is None
    assert list(behaviour_warnings(answer, {"tgate"})) == ["qkv_fusion"]
    assert behaviour_warnings(answer, {"tgate"})["qkv_fusion"].startswith("warning effect-fused-projection:")
    assert behaviour_warnings(answer, {"qkv_fusion"}) == {}
