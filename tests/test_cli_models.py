import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import FULL_SIZE
from diffbench.cli import app
from diffbench.models.families import FAMILIES, all_model_ids
from diffbench.models.loading import default_resolution

runner = CliRunner()
DIFFBENCH = Path(sys.executable).parent / "diffbench"


def test_unknown_profile_is_one_line_and_exit_2():
    result = runner.invoke(app, ["models", "build", "--profile", "gpu"])
    assert result.exit_code == 2
    assert "error: unknown profile 'gpu'" in result.output and "Traceback" not in result.output


def test_build_for_cuda_explains_there_is_nothing_to_build():
    result = runner.invoke(app, ["models", "build", "--profile", "cuda"])
    assert result.exit_code == 2 and "has no stand-ins to build" in result.output


def test_list_json_reports_availability(profile):
    result = runner.invoke(app, ["models", "list", "--json"])
    data = json.loads(result.output)
    assert data["profile"] == "tiny-cpu"
    assert {m["id"] for m in data["models"]} == set(all_model_ids())
    assert all(m["available"] for m in data["models"])


def test_build_json_says_current_after_the_session_build(profile):
    data = json.loads(runner.invoke(app, ["models", "build", "--json"]).output)
    assert {m["status"] for m in data["models"]} == {"current"}


def test_check_on_an_empty_store_fails_with_the_build_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFBENCH_HOME", str(tmp_path))
    sd15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
    result = runner.invoke(app, ["models", "check", "--json", "--id", sd15, "--steps", "1"])
    assert result.exit_code == 1
    (row,) = json.loads(result.stdout)["models"]
    assert row["ok"] is False and row["profile"] == "tiny-cpu"
    assert "is not built for profile 'tiny-cpu'" in row["error"] and "diffbench models build" in row["error"]


@pytest.mark.slow
def test_models_check_json_lists_every_id_ok(profile):
    """The acceptance command. CI checks the command itself on one checkpoint (SD1.5's) at 5 steps: every
    family's pipeline is built by test_standins_loading and runs in test_task_references (one task per level and
    family); DIFFBENCH_FULL_SIZE=1 checks every id at 50."""
    steps = "50" if FULL_SIZE else "5"
    ids = all_model_ids() if FULL_SIZE else [FAMILIES["sd15"].default.id]
    out = subprocess.run(
        [str(DIFFBENCH), "models", "check", "--json", "--steps", steps, *(a for i in ids for a in ("--id", i))],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    data = json.loads(out.stdout)
    assert out.returncode == 0, data
    assert data["profile"] == "tiny-cpu" and data["ok"] is True
    rows = data["models"]
    assert {r["id"] for r in rows} == set(ids)
    assert all(r["ok"] and r["network_isolated"] for r in rows)
    for r in rows:
        if r["image_size"] and r["conditioning"] != "controlnet-canny":
            size = default_resolution(r["id"], profile)
            assert r["image_size"] == [size, size]
