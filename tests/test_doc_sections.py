"""Each generated doc (or doc section) is what its script renders from the committed records: a doc edited by hand
or a record changed without re-rendering fails here. The scripts render without measuring anything."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))


def script(name: str):
    return importlib.import_module(name)


def doc(name: str) -> str:
    return (ROOT / "docs" / name).read_text(encoding="utf-8")


def test_knowledge_md_is_its_render():
    assert doc("knowledge.md") == script("write_knowledge_doc").render("tiny-cpu")


def test_tasks_md_is_its_render():
    assert doc("tasks.md") == script("write_tasks_doc").render()


def test_the_calibration_section_is_its_render():
    assert script("write_calibration_doc").render("tiny-cpu") in doc("calibration.md")


def test_the_hostile_section_is_its_render():
    hostile = script("hostile_table")
    assert hostile.render(json.loads((ROOT / "docs" / "hostile_run.json").read_text())) in doc("evaluation.md")


def test_the_agent_value_section_is_its_render():
    value = script("agent_value")
    if not value.RECORD.is_file():
        pytest.skip("scripts/agent_value.py has not been run at full size yet (issue 31)")
    assert value.render(json.loads(value.RECORD.read_text())) in doc("agent.md")


def test_the_extended_run_section_is_its_render():
    from diffbench.tasks.suite import suite

    extended = script("judge_extended")
    text, _, _ = extended.section(extended.read_record(), list(suite("extended")))
    assert text in doc("extended.md")


def test_the_video_run_section_is_its_render():
    from diffbench.tasks.suite import suite

    runs = script("judge_extended")
    video = runs.SUITE_RUNS["video"]
    text, _, _ = runs.section(runs.read_record(video.run.record), list(suite("video")), video.run)
    assert text in doc("video.md")


def test_the_reference_sample_section_is_its_render():
    text, _ = script("judge_sample").render()
    assert text in doc("evaluation.md")
