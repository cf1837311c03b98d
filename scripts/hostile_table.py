"""Judge every hostile kind of tests/fixtures/hostile on a level-4 SD1.5 reference under both read-only mechanisms,
keep the verdicts in docs/hostile_run.json and write the table in docs/evaluation.md (its `hostile` section).

Each judging is a `diffbench eval` command as a user would run it: under bubblewrap, and with
`DIFFBENCH_SANDBOX=mount-namespace` (the path a host without bubblewrap takes). The record carries a digest of the
suffixes and the task, so a changed suffix or a redrawn task makes it stale until this runs again
(tests/test_hostile_paths.py checks it). Run it alone (two torch processes on 2 cores spoil timings):

    .venv/bin/python scripts/hostile_table.py            # about 6 min on a 2-core CPU
    .venv/bin/python scripts/hostile_table.py --no-write  # print the section only
    .venv/bin/python scripts/hostile_table.py --render    # the section again from the record, judging nothing
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import jinja2

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
DOC = ROOT / "docs" / "evaluation.md"
RECORD = ROOT / "docs" / "hostile_run.json"
TEMPLATE = Path(__file__).parent / "templates" / "hostile_table.md.j2"
BEGIN, END = "<!-- hostile:begin -->", "<!-- hostile:end -->"
TASK = "L4-004"
SAMPLES, REPS = 3, 1
PATHS = {"bubblewrap": {}, "mount namespace": {"DIFFBENCH_SANDBOX": "mount-namespace"}}
CONTROL = "none (the reference itself)"  # must pass on both paths: the rules do not reject everything
# The rule each kind must be rejected by (the test holds every row of the record to it).
EXPECTED_RULES = {
    "append_harness": "sandbox-attempt",
    "fork_flood": "process-limit",
    "half_resolution": "resolution-at-run-time",
    "kernel_settings": "sandbox-attempt",
    "remount_writable": "sandbox-attempt",
    "setsid_child": "detached-process",
    "steps_fifth": "steps-at-run-time",
}


def kinds() -> list[str]:
    return sorted(p.stem for p in HOSTILE.glob("*.py"))


def suffix(kind: str) -> str:
    return "" if kind == CONTROL else (HOSTILE / f"{kind}.py").read_text()


def digest() -> str:
    """What the record judged: every suffix's text, the task's digest and the judging size."""
    from diffbench.tasks.suite import get_task

    text = "".join(f"{k}\n{suffix(k)}" for k in kinds())
    text += f"{get_task(TASK).digest}\n{SAMPLES}x{REPS}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def render(record: dict[str, Any]) -> str:
    cells = {(row["kind"], row["path"]): row for row in record["rows"]}
    template = jinja2.Template(TEMPLATE.read_text(), keep_trailing_newline=False)
    return template.render(record=record, cells=cells).strip("\n")


def judge(kind: str, path: str, reference: str, scratch: Path) -> dict[str, Any]:
    target = Path.home() / f".diffbench-hostile-{uuid.uuid4().hex}"  # outside /tmp: bubblewrap's /tmp is private
    source = reference.rstrip("\n") + "\n\n\n" + suffix(kind).replace("__TARGET__", str(target))
    module = scratch / f"{kind.split()[0]}.py"
    module.write_text(source)
    env = {k: v for k, v in os.environ.items() if k != "DIFFBENCH_SANDBOX"} | PATHS[path]
    out = scratch / f"{kind.split()[0]}-{path.replace(' ', '-')}"
    command = [str(Path(sys.executable).parent / "diffbench"), "eval", TASK, str(module), "--samples", str(SAMPLES)]
    command += ["--reps", str(REPS), "--json", "--out", str(out)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    escaped = target.exists()
    target.unlink(missing_ok=True)
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"kind": kind, "path": path, "passed": False, "rule": f"no verdict: {last}", "problem": last,
                "escaped": escaped, "seconds": round(seconds, 1)}  # fmt: skip
    problems = [p for stage in result["stages"] for p in stage["problems"]]
    problem = problems[0] if problems else ""
    rule = problem.split("rule ", 1)[1].split(":", 1)[0] if "rule " in problem else (problem[:60] or "-")
    return {
        "kind": kind, "path": path, "passed": result["passed"], "rule": rule, "problem": problem[:300],
        "namespaces": result["sandbox"].get("namespaces"), "escaped": escaped, "seconds": round(seconds, 1),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print the section, write nothing")
    parser.add_argument("--render", action="store_true", help="write the section from the record, judge nothing")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from doc_sections import publish

    if args.render:
        publish(DOC, BEGIN, END, render(json.loads(RECORD.read_text())), dry_run=args.no_write)
        return
    from diffbench.models.device import describe_hardware
    from diffbench.tasks.suite import get_task

    reference = get_task(TASK).reference_code
    scratch = Path(tempfile.mkdtemp(prefix="diffbench-hostile-"))
    rows = []
    for kind in [CONTROL, *kinds()]:
        for path in PATHS:
            row = judge(kind, path, reference, scratch)
            print(json.dumps(row), flush=True)
            rows.append(row)
    shutil.rmtree(scratch, ignore_errors=True)
    code = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    record = {
        "digest": digest(), "task": TASK, "samples": SAMPLES, "reps": REPS, "kinds": [CONTROL, *kinds()],
        "paths": list(PATHS),
        "measured": datetime.date.today().isoformat(), "hardware": describe_hardware("cpu"),
        "code": code.stdout.strip(), "rows": rows,
    }  # fmt: skip
    section = render(record)
    if args.no_write:
        print(section)
        return
    RECORD.write_text(json.dumps(record, indent=1) + "\n")
    publish(DOC, BEGIN, END, section, dry_run=False)


if __name__ == "__main__":
    main()
