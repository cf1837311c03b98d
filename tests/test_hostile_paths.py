"""The judge holds against hostile candidates on both read-only mechanisms, bubblewrap and the unshare mount
namespace used where bubblewrap cannot run (GPU hosts, hosts that restrict user namespaces).

Each hostile kind is a suffix appended to a module (tests/fixtures/hostile). The containment kinds run on a dummy
module in a judging session, and must be both contained and named by a rule (a hostile act is a failure, not only
contained: evaluation/behaviour.py). The kinds that need a real pipeline (fewer steps, a lower resolution behind
a subclass) go through the judge on a level-2 SD1.5 task at one quality input. docs/evaluation.md's table is the
same kinds judged on a level-4 reference (scripts/hostile_table.py)."""

from __future__ import annotations

import importlib.util
import json
import os
import time
import uuid
from pathlib import Path

import pytest

from conftest import FIXTURES
from diffbench.evaluation.behaviour import containment_problem
from diffbench.evaluation.judge import JudgeOptions, evaluate
from diffbench.sandbox.cgroups import Cgroups, Limits
from diffbench.sandbox.session import WorkerSession
from diffbench.tasks.suite import get_task
from test_sandbox import processes_with
from test_sandbox_hostile import ENV, SMALL, load

HOSTILE = FIXTURES / "hostile"
DUMMY_MODULE = """from _dummy import DummyPipe, one_image


def load_pipeline(device):
    return DummyPipe()


def generate(pipe, request):
    return one_image(request)
"""


def _pids_cgroup_here() -> bool:
    groups = Cgroups.create(Limits())
    try:
        return "pids" in groups.folders
    finally:
        groups.remove()


needs_pids_cgroup = pytest.mark.skipif(
    not _pids_cgroup_here(), reason="no pids cgroup can be made here: a fork flood is not bounded (the sandbox warns)"
)


def hostile(base: str, kind: str, **subs: str) -> str:
    source = base.rstrip("\n") + "\n\n\n" + (HOSTILE / f"{kind}.py").read_text()
    for key, value in subs.items():
        source = source.replace(f"__{key}__", value)
    return source


def session_answers(tmp_path: Path, source: str, calls: int = 1) -> list[dict]:
    """The load answer and `calls` generate answers of `source` in one judging session."""
    work = tmp_path / "work"
    work.mkdir(parents=True)
    module = work / "candidate.py"
    module.write_text(source)
    with WorkerSession(work, ENV, SMALL) as session:
        answers = [load(session, module)]
        for n in range(calls):
            answers.append(session.call({"op": "generate", "request": {"seed": n}, "save_as": f"out{n}"}, 30)[0])
    return answers


# ---- containment kinds: contained, and named by a rule, on both paths -------------------------------------------
def test_a_plain_module_breaks_no_containment_rule(tmp_path, read_only_sandbox):
    answers = session_answers(tmp_path, DUMMY_MODULE, calls=2)
    assert all(a["ok"] and containment_problem(a) is None for a in answers), answers


@needs_pids_cgroup
def test_a_swallowed_fork_flood_fails_with_the_process_limit_rule(tmp_path, read_only_sandbox):
    (answer,) = session_answers(tmp_path, hostile(DUMMY_MODULE, "fork_flood"), calls=0)
    assert answer["ok"], answer  # the flood was contained and its failure swallowed: load returned
    assert answer["harness"]["process_limit_hit"]
    assert containment_problem(answer).startswith("rule process-limit: ")


def test_a_child_left_in_its_own_session_fails_with_the_detached_process_rule(tmp_path, read_only_sandbox):
    loaded, first = session_answers(tmp_path, hostile(DUMMY_MODULE, "setsid_child"), calls=1)
    assert containment_problem(loaded) is None
    assert first["ok"] and len(first["harness"]["detached_processes"]) == 1, first
    assert containment_problem(first).startswith("rule detached-process: the solution left process ")
    deadline = time.time() + 5
    while processes_with("diffbench-hostile-setsid") and time.time() < deadline:
        time.sleep(0.1)
    assert processes_with("diffbench-hostile-setsid") == []  # and it died with the session


def test_an_attempt_on_the_installed_harness_fails_though_it_was_contained(tmp_path, read_only_sandbox):
    import diffbench.evaluation.metrics as metrics

    before = Path(metrics.__file__).read_bytes()
    (answer,) = session_answers(tmp_path, hostile(DUMMY_MODULE, "append_harness"), calls=0)
    assert answer["ok"]  # the candidate swallowed the read-only file system's refusal
    assert Path(metrics.__file__).read_bytes() == before
    assert containment_problem(answer) == (
        f"rule sandbox-attempt: the solution tried to open {metrics.__file__!r} for writing, which its sandbox forbids"
    )


def test_remounting_the_view_writable_is_refused_and_fails(tmp_path, read_only_sandbox):
    """A uid-0 child that kept CAP_SYS_ADMIN remounted / writable with one mount(2) call (both paths, before
    2026-12-06): now it holds no capability, the remount is refused, and looking up mount() is an attempt."""
    target = Path(__file__).parent / f"escaped-{uuid.uuid4().hex}"  # not under /tmp: bubblewrap's is private
    (answer,) = session_answers(tmp_path, hostile(DUMMY_MODULE, "remount_writable", TARGET=str(target)), calls=0)
    assert not target.exists()
    problem = containment_problem(answer)
    assert problem.startswith("rule sandbox-attempt: the solution tried to look up the C function mount()"), problem
    assert f"open {str(target)!r} for writing" in problem


def test_kernel_settings_and_raw_disks_are_out_of_reach(tmp_path, read_only_sandbox):
    (answer,) = session_answers(tmp_path, hostile(DUMMY_MODULE, "kernel_settings"), calls=0)
    problem = containment_problem(answer)
    assert problem.startswith("rule sandbox-attempt: the solution tried to open '/proc/sys/kernel/core_pattern'")


SANDBOX_VIEW = """

import json as _json
import os as _os


def load_pipeline(device):
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    try:
        open("/proc/sys/kernel/core_pattern", "r+b").close()
        settings = "writable"
    except OSError as err:
        settings = err.strerror
    raise RuntimeError(_json.dumps({
        "caps": [int(status[k].strip(), 16) for k in ("CapEff", "CapPrm", "CapBnd")],
        "no_new_privs": status["NoNewPrivs"].strip(),
        "dev": sorted(_os.listdir("/dev")),
        "settings": settings,
    }))
"""


def test_the_child_holds_no_capability_and_a_minimal_dev(tmp_path, read_only_sandbox):
    import json

    (answer,) = session_answers(tmp_path, DUMMY_MODULE + SANDBOX_VIEW, calls=0)
    view = json.loads(answer["error"].removeprefix("RuntimeError: "))
    assert view["caps"] == [0, 0, 0] and view["no_new_privs"] == "1"
    assert view["settings"] == "Read-only file system"
    assert {"null", "zero", "urandom", "shm"} <= set(view["dev"])
    assert not [name for name in view["dev"] if name.startswith(("vd", "sd", "nvme", "loop", "kvm", "mem"))]
    assert len(os.listdir("/dev")) > len(view["dev"])  # the host has more: the test can fail


# ---- kinds that need a real pipeline: through the judge ---------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "rule"), [("steps_fifth", "rule steps-at-run-time"), ("half_resolution", "rule resolution-at-run-time")]
)
def test_a_subclass_that_cuts_the_work_inside_call_is_rejected(profile, tmp_path, read_only_sandbox, kind, rule):
    task = get_task("L2-002")
    options = JudgeOptions(samples=1, inputs_seed=7)
    result = evaluate(task, hostile(task.reference_code, kind), profile, tmp_path / "judged", options)
    problems = [p for stage in result.stages for p in stage.problems]
    assert not result.passed and problems[0].startswith(rule), problems
    assert result.sandbox["namespaces"] == read_only_sandbox


@pytest.mark.slow
def test_the_judge_fails_a_contained_attack_by_its_rule(profile, tmp_path, read_only_sandbox):
    task = get_task("L2-002")
    options = JudgeOptions(samples=1, inputs_seed=7)
    result = evaluate(task, hostile(task.reference_code, "append_harness"), profile, tmp_path / "judged", options)
    problems = [p for stage in result.stages for p in stage.problems]
    assert not result.passed and result.error_modes == ["runtime"], result.error_modes
    assert problems[0].startswith("load_pipeline: rule sandbox-attempt: the solution tried to open "), problems


# ---- the measured table in docs/evaluation.md -------------------------------------------------------------------
def hostile_table_script():
    path = Path(__file__).resolve().parent.parent / "scripts" / "hostile_table.py"
    spec = importlib.util.spec_from_file_location("hostile_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_hostile_table_is_current_complete_and_rejects_every_kind_on_both_paths():
    """docs/hostile_run.json (scripts/hostile_table.py) judged today's suffixes on today's task: a changed suffix
    makes it stale here until the script runs again. The reference passes on both paths; every hostile kind is
    rejected on both by its own rule, and nothing escaped; the doc's section is what the record renders."""
    table = hostile_table_script()
    record = json.loads(table.RECORD.read_text())
    assert record["digest"] == table.digest()
    rows = {(r["kind"], r["path"]): r for r in record["rows"]}
    assert set(rows) == {(k, p) for k in [table.CONTROL, *table.kinds()] for p in table.PATHS}
    assert set(table.EXPECTED_RULES) == set(table.kinds())
    assert all(rows[(table.CONTROL, p)]["passed"] for p in table.PATHS)
    wrong = [
        (k, p, r["rule"])
        for (k, p), r in rows.items()
        if k != table.CONTROL and (r["passed"] or r["rule"] != table.EXPECTED_RULES[k])
    ]
    assert wrong == []
    assert [key for key, r in rows.items() if r["escaped"]] == []
    assert table.render(record) in table.DOC.read_text()
