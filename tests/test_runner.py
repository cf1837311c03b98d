"""`diffbench run` and `diffbench report` end to end on stand-ins: verdicts, resumption after SIGKILL, refusing
to mix runs, the Ray executor, and the HTML page in headless Chromium.

FIVE mixes tasks the baseline solver passes (level 1, where the baseline is the reference; DiT-256, the
cheapest family to judge) with tasks it fails at the static stage, so a run has both verdicts."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from diffbench.cli import app
from diffbench.report.summary import summarize
from diffbench.runner.store import DB_FILE

runner = CliRunner()
FIVE = ["L1-030", "L2-079", "L1-031", "L2-081", "L3-174"]
TWO = ["L1-030", "L2-079"]  # one the baseline solver passes, one it fails
THREE = ["L2-079", "L2-081", "L1-030"]  # killed after the two static failures, while the third is judged
EXPECTED = {"L1-030": True, "L2-079": False, "L1-031": True, "L2-081": False, "L3-174": False}


def run_args(run_dir: Path, *extra: str, solver: str = "baseline", tasks: list[str] = FIVE) -> list[str]:
    args = ["run", "--solver", solver, "--samples", "3", "--run-dir", str(run_dir), "--quiet", *extra]
    for task in tasks:
        args += ["--task", task]
    return args


def judged_in(run_dir: Path, tasks: list[str]) -> dict[str, bool]:
    """The verdicts `run_dir` holds for `tasks` (one read of its database)."""
    held = verdicts(run_dir)
    return {t: held[t] for t in tasks}


def verdicts(run_dir: Path) -> dict[str, bool]:
    with sqlite3.connect(run_dir / DB_FILE) as db:
        return {task: bool(passed) for task, passed in db.execute("SELECT task_id, passed FROM results")}


@pytest.fixture(scope="module")
def local_run(profile, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "local"
    result = runner.invoke(app, run_args(run_dir))
    assert result.exit_code == 0, result.output
    return run_dir


@pytest.mark.slow
def test_verdicts_and_report(local_run):
    assert verdicts(local_run) == EXPECTED
    result = runner.invoke(app, ["report", str(local_run), "--json"])
    data = json.loads(result.output)
    by_level = {lv["level"]: lv for lv in data["levels"]}
    assert by_level[1]["pass_rate"] == 1.0 and by_level[2]["pass_rate"] == 0.0
    assert by_level[2]["errors"]["key_attributes"] == 2 and by_level[3]["errors"]["key_attributes"] == 1
    side_by_side = runner.invoke(app, ["report", str(local_run), "--compare", str(local_run)]).output
    assert side_by_side.count("100.0 (2/2)") == 2  # Table 1 has a row per run
    again = runner.invoke(app, run_args(local_run))  # a finished run does nothing more
    assert again.exit_code == 0 and "5/5 tasks judged" in again.output


def test_the_baseline_fails_every_level_2_and_3_task_on_key_attributes(profile, tmp_path):
    """Full size: all 377 tasks; each fails at the static stage, so this is quick."""
    run_dir = tmp_path / "baseline-l23"
    result = runner.invoke(app, ["run", "--solver", "baseline", "--level", "2", "--level", "3",
                                 "--run-dir", str(run_dir), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = summarize(run_dir)
    assert summary.tasks == 377 and summary.passed == 0
    for lv in summary.levels:
        assert lv.pass_rate == 0.0 and lv.errors["key_attributes"] == lv.tasks
    table = runner.invoke(app, ["report", str(run_dir)]).output
    assert "0.0 (0/116)" in table and "0.0 (0/261)" in table


def test_jsonl_mode_prints_one_object_per_finished_task(profile, tmp_path):
    args = [
        "run",
        "--solver",
        "baseline",
        "--task",
        "L2-079",
        "--task",
        "L3-174",
        "--run-dir",
        str(tmp_path),
        "--jsonl",
    ]
    lines = [json.loads(line) for line in runner.invoke(app, args).output.splitlines()]
    assert [(x["task_id"], x["passed"], x["error_modes"], x["done"]) for x in lines] == [
        ("L2-079", False, ["key_attributes"], 1),
        ("L3-174", False, ["key_attributes"], 2),
    ]


def test_a_run_folder_refuses_another_solver(profile, tmp_path):
    run_dir = tmp_path / "one"
    assert runner.invoke(app, run_args(run_dir, tasks=["L2-079"])).exit_code == 0
    result = runner.invoke(app, run_args(run_dir, solver="reference", tasks=["L2-079"]))
    assert result.exit_code == 2 and "solver=baseline" in result.output and "solver=reference" in result.output


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_gives_one_result_per_task_and_the_same_verdicts(local_run, tmp_path):
    run_dir = tmp_path / "killed"
    command = [sys.executable, "-c", "from diffbench.cli import app; app()", *run_args(run_dir, tasks=THREE)]
    child = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and child.poll() is None:
        db = run_dir / DB_FILE
        if db.is_file() and len(verdicts(run_dir)) >= 2:  # mid-run: the L1 task not judged yet
            break
        time.sleep(0.2)
    assert child.poll() is None, f"the run ended before it could be killed: {child.stderr.read().decode()[-2000:]}"
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    assert 2 <= len(verdicts(run_dir)) < len(THREE)
    resumed = runner.invoke(app, run_args(run_dir, tasks=THREE))
    assert resumed.exit_code == 0, resumed.output
    with sqlite3.connect(run_dir / DB_FILE) as db:
        rows = [r[0] for r in db.execute("SELECT task_id FROM results")]
    assert sorted(rows) == sorted(THREE)  # exactly one result per task
    assert verdicts(run_dir) == judged_in(local_run, THREE)


@pytest.mark.slow
def test_the_ray_executor_gives_the_same_verdicts(local_run, tmp_path):
    ray = pytest.importorskip("ray")
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 1024 * 1024, log_to_driver=False)
    try:
        # one task of each verdict: the executor's mechanism, at half the local run's cost
        result = runner.invoke(app, run_args(tmp_path / "ray", "--executor", "ray", tasks=TWO))
    finally:
        ray.shutdown()
    assert result.exit_code == 0, result.output
    assert verdicts(tmp_path / "ray") == judged_in(local_run, TWO)


@pytest.mark.slow
def test_the_html_report_renders_in_chromium_with_the_numbers_of_the_json(local_run, tmp_path):
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "report.html"
    assert runner.invoke(app, ["report", str(local_run), "--html", str(page_file)]).exit_code == 0
    data = json.loads(runner.invoke(app, ["report", str(local_run), "--json"]).output)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("pageerror", lambda err: problems.append(str(err)))
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.goto(page_file.as_uri())
        embedded = json.loads(page.locator("#report-data").text_content())
        cells = page.locator("#table-pass-rate td[data-field=pass_rate]").all()
        shown = {int(c.get_attribute("data-level")): c.inner_text().split()[0] for c in cells}
        cards = page.locator(".card").count()
        images = page.locator(".card img").count()
        broken = page.evaluate("Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).length")
        browser.close()
    assert not problems, problems
    assert embedded[0]["levels"] == data["levels"]
    assert shown == {lv["level"]: f"{100 * lv['pass_rate']:.1f}" for lv in data["levels"]}
    assert cards == len(FIVE) and images >= 2 and broken == 0


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
