"""The task suite: counts and coverage, validation, byte-for-byte regeneration, clear errors for bad files."""

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from diffbench.builders.validate import check_task
from diffbench.cli import app
from diffbench.knowledge import load_knowledge
from diffbench.models.families import families_of
from diffbench.tasks.schema import LEVELS
from diffbench.tasks.stats import stats
from diffbench.tasks.suite import DATA_DIR, TaskFileError, load_suite, suite, write_suite

runner = CliRunner()


@pytest.fixture(scope="module")
def tasks():
    return list(suite())


def test_counts_and_coverage(tasks):
    data = stats(tasks)
    assert data["total"] == 604
    assert data["by_level"] == {str(k): v for k, v in LEVELS.items()}
    assert set(data["by_family"]) == {f.key for f in families_of("paper")}
    assert set(data["by_conditioning"]) == {"text-to-image", "image-to-image", "class-to-image", "controlnet-canny"}
    assert set(data["by_sampler"]) == set(data["by_baseline_sampler"]) == {"ddim", "dpm_solver", "unipc"}
    assert set(data["by_resolution"]) == {"256", "512", "768", "1024"}
    for method in ("deepcache", "tome", "tgate", "fp16"):
        assert data["by_method"][method] >= 20, method


def test_every_family_at_every_level(tasks):
    for level in LEVELS:
        assert {t.family for t in tasks if t.level == level} == {f.key for f in families_of("paper")}, level


def test_methods_only_where_the_knowledge_base_allows_them(tasks):
    kb = load_knowledge()
    compatible = {frozenset((m.key, o)) for m in kb for o in m.composes_with}
    for task in tasks:
        keys = task.required_methods
        for key in keys:
            assert kb.method(key).why_unsupported(task.family, str(task.conditioning)) is None, (task.id, key)
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                assert frozenset((a, b)) in compatible, (task.id, a, b)


def test_no_reference_or_baseline_imports_this_project(tasks):
    """A task must be passable with public libraries: its own code never needs the benchmark's package."""
    pattern = re.compile(r"^\s*(from|import)\s+(diffbench|diffagent)\b", re.MULTILINE)
    offenders = [(t.id, kind) for t in tasks for kind, code in (("reference", t.reference_code),
                 ("baseline", t.baseline_code)) if pattern.search(code)]  # fmt: skip
    assert offenders == []
    assert len(tasks) == 604


def test_the_generator_never_asks_for_a_method_another_disables(tasks):
    kb = load_knowledge()
    inert = [(m.key, c.method, c.reason) for m in kb for c in m.conflicts if c.inert]
    assert ("qkv_fusion", "tgate") in [(a, b) for a, b, _ in inert]
    for task in tasks:
        keys = [m.key for m in task.methods]
        assert not any(a in keys and b in keys for a, b, _ in inert), task.id
    # asked directly, composing such a pair is refused with the conflict's reason
    from diffbench.knowledge.compose import Applied, compose
    from diffbench.knowledge.loader import KnowledgeError

    with pytest.raises(KnowledgeError, match="fused projection"):
        compose(kb, "stable-diffusion-v1-5/stable-diffusion-v1-5", "text-to-image", 512, 20,
                [Applied("tgate", {}), Applied("qkv_fusion", {})])  # fmt: skip


def test_methods_left_out_of_the_suite_are_never_asked_for(tasks):
    kb = load_knowledge()
    left_out = {m.key for m in kb if m.not_in_suite}
    assert left_out == {"cfg_truncation", "torchao_float8"}
    assert not [t.id for t in tasks if left_out & {m.key for m in t.methods}]


def test_level_3_combines_two_or_three_methods_and_the_tasks_are_distinct(tasks):
    level3 = [t for t in tasks if t.level == 3]
    assert {len(t.required_methods) for t in level3} == {2, 3}
    shapes = Counter((t.model_id, t.conditioning, t.baseline_sampler, t.required_methods) for t in level3)
    assert max(shapes.values()) == 1


def test_every_reference_and_baseline_checks_out(tasks):
    kb = load_knowledge()
    problems = {t.id: found for t in tasks if (found := check_task(t, kb))}
    assert problems == {}


def test_regenerating_reproduces_the_committed_files_byte_for_byte(tmp_path, generated_suite):
    write_suite(generated_suite("paper"), tmp_path)
    for level in LEVELS:
        name = f"level{level}.jsonl"
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes(), name


def test_prompts_state_what_is_judged(tasks):
    for task in (t for t in tasks if t.level <= 3):
        prompt = task.prompt
        assert task.model_id in prompt and str(task.resolution) in prompt, task.id
        assert re.search(rf"\b{task.steps}\b", prompt), task.id
        if task.key_attributes.controlnet_id:
            assert task.key_attributes.controlnet_id in prompt and "Canny" in prompt, task.id
        for key, params in (task.key_attributes.methods or {}).items():
            for value in params.values():
                shown = {str(value), f"{value}", str(round(value * 100)) if isinstance(value, float) else ""}
                assert any(s and s in prompt for s in shown), (task.id, key, value)


def test_prompts_are_varied(tasks):
    assert len({t.prompt for t in tasks}) == len(tasks)
    for level in LEVELS:
        openings = {" ".join(t.prompt.split()[:3]) for t in tasks if t.level == level}
        assert len(openings) >= 10, (level, openings)


def test_hard_levels_render_their_targets_per_profile(tasks):
    task = next(t for t in tasks if t.level == 5)
    assert "{latency}" in task.prompt and "{platform}" in task.prompt
    target = task.targets["tiny-cpu"]  # calibrated and committed
    rendered = task.prompt_for("tiny-cpu")
    assert f"{target.latency_s:.2f} s" in rendered and target.platform in rendered
    assert "5%" in rendered and "{" not in rendered
    uncalibrated = task.prompt_for("cuda")
    assert "not calibrated for cuda" in uncalibrated and "{" not in uncalibrated


def copy_suite(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def edit_line(path, number, change):
    lines = path.read_text().splitlines()
    lines[number - 1] = change(lines[number - 1])
    path.write_text("\n".join(lines) + "\n")


def test_a_line_that_is_not_json_names_file_and_line(tmp_path):
    data = copy_suite(tmp_path)
    edit_line(data / "level2.jsonl", 7, lambda line: line[:40])
    with pytest.raises(TaskFileError, match=r"level2\.jsonl line 7: not valid JSON"):
        load_suite(data)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("resolution", 100, r"task L3-005: field resolution: Input should be greater than or equal to 256"),
        ("model_id", "acme/imaginary-model", r"task L3-005: field model_id: unknown model id 'acme/imaginary-model'"),
        ("conditioning", "text-to-3d", r"task L3-005: field conditioning: Input should be"),
        ("conditioning", "text-to-video", r"task L3-005: field \(task\): Value error, SD1.5 has no text-to-video"),
        ("level", 4, r"task L3-005: field \(task\): Value error, id 'L3-005' does not match level 4"),
        ("difficulty", "hard", r"task L3-005: field \(task\): Value error, difficulty and delta are set"),
        ("surprise", 1, r"task L3-005: field surprise: Extra inputs are not permitted"),
    ],
)
def test_a_hand_edited_field_names_the_task_and_field(tmp_path, field, value, message):
    data = copy_suite(tmp_path)

    def change(line):
        raw = json.loads(line)
        raw[field] = value
        return json.dumps(raw)

    edit_line(data / "level3.jsonl", 5, change)
    with pytest.raises(TaskFileError, match=message):
        load_suite(data)


def test_a_missing_file_says_how_to_regenerate(tmp_path):
    data = copy_suite(tmp_path)
    (data / "level4.jsonl").unlink()
    with pytest.raises(TaskFileError, match="diffbench tasks generate"):
        load_suite(data)


def test_validate_catches_a_reference_that_drifted(tasks):
    task = next(t for t in tasks if t.level == 2 and t.methods)
    broken = task.model_copy(update={"reference_code": task.reference_code.replace("STEPS = ", "STEPS = 1 + ")})
    assert any("num_inference_steps" in p for p in check_task(broken, load_knowledge()))


def test_cli_stats_json_matches_the_acceptance_shape():
    result = runner.invoke(app, ["tasks", "stats", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 604 and data["by_level"] == {"1": 41, "2": 116, "3": 261, "4": 93, "5": 93}


def test_cli_list_show_and_unknown_id():
    listed = runner.invoke(app, ["tasks", "list", "--level", "1", "--family", "dit", "--json"])
    assert listed.exit_code == 0 and {t["family"] for t in json.loads(listed.output)} == {"dit"}
    shown = runner.invoke(app, ["tasks", "show", "L2-001"])
    assert shown.exit_code == 0 and "Key attributes" in shown.output and "def load_pipeline" in shown.output
    missing = runner.invoke(app, ["tasks", "show", "L9-999"])
    assert missing.exit_code == 2 and "unknown task 'L9-999'" in missing.output


def test_cli_validate_passes_on_the_packaged_suite():
    result = runner.invoke(app, ["tasks", "validate"])
    assert result.exit_code == 0, result.output
    assert "604 tasks" in result.output and "ok" in result.output


def test_the_suites_builders_sit_above_tasks_calibration_and_knowledge():
    """tasks/ (schema, key attributes, the loader, the wording) reads only the model registry; the generator and
    the validator, which read the knowledge base, calibration and the parser, live in builders/ and only the
    command line and the tests import them."""
    src = Path(__file__).resolve().parents[1] / "src"
    tasks_files = (src / "diffbench" / "tasks").rglob("*.py")
    tasks_reads = {m for p in tasks_files for m in re.findall(r"from diffbench\.(\w+)", p.read_text())}
    assert tasks_reads <= {"errors", "models", "tasks"}
    users = [p.relative_to(src).as_posix() for p in src.rglob("*.py") if "diffbench.builders" in p.read_text()]
    assert [u for u in users if not u.startswith(("diffbench/cli/", "diffbench/builders/"))] == []
