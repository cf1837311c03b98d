"""The video suite (issue 34): Wan 2.1/2.2 tasks at every level, generated the way the other suites are (ids V1-001
..., own data folder), each a 5-frame clip at the checkpoint's 480P size (or Wan 2.2 TI2V-5B's 1280x704)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from diffbench.builders.validate import check_regenerates, check_task
from diffbench.knowledge import load_knowledge
from diffbench.models.families import CLIP_FRAMES as VIDEO_FRAMES
from diffbench.models.families import families_of
from diffbench.tasks.schema import SUITE_LEVELS
from diffbench.tasks.stats import stats
from diffbench.tasks.suite import get_task, suite, suite_dir

VIDEO_RUN_RECORD = Path(__file__).resolve().parent.parent / "docs" / "video_reference_run.json"


@pytest.fixture(scope="module")
def tasks():
    return list(suite("video"))


def test_counts_ids_pipelines_and_clip_sizes(tasks):
    assert stats(tasks)["by_level"] == {str(k): v for k, v in SUITE_LEVELS["video"].items()}
    assert all(re.fullmatch(r"V[1-5]-\d{3}", t.id) and t.suite == "video" for t in tasks)
    every_pipeline = {(c.id, cond) for f in families_of("video") for c in f.checkpoints for cond in f.pipelines}
    assert {(t.model_id, t.conditioning) for t in tasks if t.level == 1} == every_pipeline
    for t in tasks:
        assert t.frames == VIDEO_FRAMES and t.conditioning.video
        assert t.size == ((1280, 704) if "TI2V-5B" in t.model_id else (832, 480)), t.id
        assert t.key_attributes.resolution == (t.resolution, t.width)
        assert f"NUM_FRAMES = {t.frames}" in t.reference_code and "return result.frames" in t.reference_code
        assert "image" not in t.prompt.replace("image-to-video", "").replace("img2video", ""), t.prompt
        assert f"{t.width}" in t.prompt and re.search(rf"\b{t.frames}[- ]frame", t.prompt), t.prompt


def test_every_method_the_knowledge_base_runs_on_wan_is_asked_at_level_2(tasks):
    kb = load_knowledge()
    applicable = {m.key for m in kb.for_family("wan") if m.not_in_suite is None}
    assert {k for t in tasks if t.level == 2 for k in t.required_methods} == applicable
    hard = {t.model_id for t in tasks if t.level >= 4}
    assert hard == {"Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "Wan-AI/Wan2.2-T2V-A14B-Diffusers"}


def test_references_check_out_and_baselines_fail_the_key_attributes(tasks):
    kb = load_knowledge()
    assert {t.id: found for t in tasks if (found := check_task(t, kb))} == {}


def test_regenerating_reproduces_the_committed_files(generated_suite):
    assert check_regenerates(generated_suite("video"), suite_dir("video")) == []


def test_image_tasks_are_written_without_the_video_fields():
    """An image task's stored line (and so its digest, which recorded verdicts carry) has no width or frames."""
    image = get_task("X1-001")
    assert "width" not in json.loads(image.model_dump_json()) and image.size == (1024, 1024)
    video = json.loads(get_task("V1-001").model_dump_json())
    assert (video["width"], video["resolution"], video["frames"]) == (832, 480, VIDEO_FRAMES)
    with pytest.raises(ValueError, match="width and frames are set exactly for a video task"):
        type(image).model_validate({**json.loads(image.model_dump_json()), "frames": 5, "width": 1024})


def test_the_reference_runs_verdicts_are_current(tasks):
    """docs/video_reference_run.json (scripts/judge_extended.py --suite video) keeps each verdict with a digest of
    the task it judged: a redrawn task fails here until it is judged again; the failures file is exactly the
    record's failing references; a miss labelled the machine's is one calibration/machine_misses.py names.
    Tasks not judged yet are listed as such in docs/video.md's run section (test_doc_sections)."""
    from diffbench.calibration.machine_misses import recorded_miss_reason
    from diffbench.tasks.suite import known_failing_file

    record = json.loads(VIDEO_RUN_RECORD.read_text())
    by_id = {t.id: t for t in tasks}
    assert set(record) <= set(by_id) and record
    assert [i for i, r in record.items() if r["digest"] != by_id[i].digest] == []
    failing = {i for i, r in record.items() if not r["passed"] and not r["verdict"].startswith(("machine", "S_a"))}
    assert failing == set(json.loads(known_failing_file("video").read_text()))
    machine = {i: r for i, r in record.items() if r["verdict"] == "machine"}
    assert [i for i, r in machine.items() if not recorded_miss_reason(by_id[i], r)] == []
    assert all(r["baseline"] == "fails stage 1" for i, r in record.items() if by_id[i].level >= 2)
