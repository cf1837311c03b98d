"""Solution modules in the idioms people copy from the libraries' READMEs and the diffusers docs
(tests/fixtures/idioms/index.yaml names each one's source, task and expected verdict).

The static parser reads all of them here; the judge runs the `reduced` ones in CI and all of them at
DIFFBENCH_FULL_SIZE=1 (3 quality inputs each). Where an idiom fails, docs/contract.md says why."""

import pytest
import yaml

from conftest import FIXTURES, FULL_SIZE
from diffbench.calibration.machine_misses import HALF_PRECISION_METHODS
from diffbench.evaluation.judge import JudgeOptions, evaluate
from diffbench.evaluation.static import analyze
from diffbench.models.device import device_has_fast_half_precision
from diffbench.tasks.attributes import mismatches
from diffbench.tasks.suite import get_task

IDIOMS = FIXTURES / "idioms"
INDEX = yaml.safe_load((IDIOMS / "index.yaml").read_text())
QUICK = JudgeOptions(samples=3, inputs_seed=5)


def expected_failure(entry: dict) -> str | None:
    return None if entry["expected"] == "pass" else entry["expected"].removeprefix("fail:").strip()


def test_the_index_is_complete_and_large_enough():
    files = {p.name for p in IDIOMS.glob("*.py")}
    assert files == {e["file"] for e in INDEX}
    assert len(INDEX) >= 15
    assert all(e["source"] and e["task"] for e in INDEX)


@pytest.mark.parametrize("entry", INDEX, ids=lambda e: e["file"].removesuffix(".py"))
def test_the_parser_reads_each_idiom(entry):
    task = get_task(entry["task"])
    result = analyze((IDIOMS / entry["file"]).read_text())
    assert result.compile_error is None
    problems = mismatches(task.key_attributes, result.attributes, task.baseline_attributes)
    failure = expected_failure(entry)
    if entry.get("fails_at") == "static":
        assert problems and failure in problems[0], problems
    else:
        assert not problems, problems


def half_precision_on_a_slow_cpu(entry: dict) -> pytest.MarkDecorator | None:
    """A skip for an idiom whose task asks bf16/fp16 on a CPU without bf16/fp16 instructions: there a half-precision
    call runs up to 75x slower than fp32 and meets the calls' deadline before the code is judged (fp16_variant and
    dtype_auto_pipeline timed out so on an AVX2-only EPYC, 2026-12-06, with and without the warm-up budget)."""
    asked = set(get_task(entry["task"]).key_attributes.methods or {})
    slow = sorted(k for k in asked & HALF_PRECISION_METHODS if not device_has_fast_half_precision("cpu", k))
    if slow:
        half = "/".join(slow)
        why = f"on a CPU without {half} instructions: the calls' deadline measures the CPU"
        return pytest.mark.skip(reason=f"{entry['task']} asks {half} {why}")
    return None


def judged():
    entries = [e for e in INDEX if FULL_SIZE or e.get("reduced")]
    return [pytest.param(e, marks=[m] if (m := half_precision_on_a_slow_cpu(e)) else []) for e in entries]


@pytest.mark.slow
@pytest.mark.parametrize("entry", judged(), ids=lambda e: e["file"].removesuffix(".py"))
def test_the_judge_reaches_each_idioms_expected_verdict(profile, tmp_path, entry):
    task = get_task(entry["task"])
    result = evaluate(task, (IDIOMS / entry["file"]).read_text(), profile, tmp_path, QUICK)
    failure = expected_failure(entry)
    if failure is None:
        assert result.passed, result.first_problem
        if "warning" in entry:
            assert [w for w in result.warnings if entry["warning"] in w], result.warnings
    else:
        assert not result.passed and failure in (result.first_problem or ""), result.first_problem
