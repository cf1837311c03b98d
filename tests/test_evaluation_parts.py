"""The judge's pure parts: the paper's metrics, the run-time input draw, the fidelity score."""

import json
import math
from pathlib import Path

import pytest

from diffbench.evaluation.inputs import class_labels, draw_inputs, read_prompts
from diffbench.evaluation.metrics import achievement, quality_loss, speedup
from diffbench.evaluation.quality import ANCHORS, SCALE_FILE, FidelityScale, fidelity_scale
from diffbench.models.families import FAMILIES, Conditioning
from diffbench.models.standins.recipes import recipe


def test_quality_loss_is_equation_1():
    assert quality_loss([30.0, 32.0], [29.0, 30.0]) == pytest.approx((31.0 - 29.5) / 31.0)
    assert quality_loss([1.0, 1.0], [1.0, 1.0]) == 0.0
    with pytest.raises(ValueError):
        quality_loss([1.0], [1.0, 2.0])


def test_speedup_is_a_ratio_of_means_equation_2():
    assert speedup([2.0, 4.0], [1.0, 1.0]) == pytest.approx(3.0)
    assert speedup([2.0, 4.0], [1.0, 2.0]) == pytest.approx(2.0)  # not the mean of per-sample ratios (2.0)
    assert speedup([3.0, 1.0], [1.0, 1.0]) != pytest.approx((3.0 + 1.0) / 2 / 1.5)


def test_achievement_caps_at_one():
    assert achievement(1.5, 3.0) == 0.5 and achievement(4.0, 3.0) == 1.0


def test_fidelity_score_is_monotone_and_one_for_identical():
    scale = FidelityScale(midpoint_db=24.0, width_db=3.0)
    assert scale.score(math.inf) == 1.0
    values = [scale.score(p) for p in (10, 20, 25, 30, 40, 60)]
    assert values == sorted(values) and 0 < values[0] < values[-1] <= 1


def test_fidelity_scale_goes_through_its_anchors():
    scale = FidelityScale.from_anchors(moderate_db=40.0, over_db=22.0)
    assert 1 - scale.score(40.0) == pytest.approx(ANCHORS["moderate"][1])
    assert 1 - scale.score(22.0) == pytest.approx(ANCHORS["over"][1])
    with pytest.raises(ValueError):
        FidelityScale.from_anchors(moderate_db=20.0, over_db=30.0)


def test_every_checkpoint_has_a_fidelity_scale_measured_on_todays_stand_in():
    recorded = json.loads(SCALE_FILE.read_text())["checkpoints"]
    for fam in FAMILIES.values():  # the video checkpoints' too: a search or a judging of a Wan module scores them
        for ck in fam.checkpoints:
            scale = fidelity_scale(ck.id)
            assert scale.width_db > 0 and 0 < scale.midpoint_db < 60, ck.id
            # A rebuilt stand-in moves differently: re-run scripts/measure_fidelity_scale.py.
            assert recorded[ck.id]["standin_revision"] == recipe(ck.id).revision, ck.id


@pytest.mark.parametrize("conditioning", list(Conditioning))
def test_inputs_vary_one_thing_at_a_time_in_the_first_three(conditioning):
    inputs = draw_inputs(conditioning, 10, seed=7)
    a, b, c = inputs[:3]
    assert a.seed != b.seed and a.seed == c.seed
    if conditioning == Conditioning.CLASS:
        assert a.class_label == b.class_label != c.class_label and a.prompt is None
    else:
        assert a.prompt == b.prompt != c.prompt and a.class_label is None
    if conditioning in (Conditioning.IMAGE, Conditioning.CANNY, Conditioning.IMAGE_TO_VIDEO):
        assert a.image_seed == b.image_seed == c.image_seed and a.image_size not in (None, 512, 768, 1024)
    assert len({i.key() for i in inputs}) == 10


def test_inputs_are_secret_unless_seeded():
    assert draw_inputs(Conditioning.TEXT, 5, seed=1) == draw_inputs(Conditioning.TEXT, 5, seed=1)
    assert draw_inputs(Conditioning.TEXT, 5) != draw_inputs(Conditioning.TEXT, 5)


def test_shipped_prompts_and_labels():
    prompts = read_prompts()
    assert len(prompts) >= 50 and len(set(prompts)) == len(prompts)
    assert len(class_labels()) >= 10


def test_a_prompt_file_can_replace_the_shipped_set(tmp_path):
    path = tmp_path / "coco.txt"
    path.write_text("# captions\nA dog on a couch.\nA red train.\nTwo cups of tea.\n")
    inputs = draw_inputs(Conditioning.TEXT, 3, seed=2, prompts=read_prompts(path))
    assert {i.prompt for i in inputs} <= {"A dog on a couch.", "A red train.", "Two cups of tea."}


@pytest.mark.parametrize("conditioning", [Conditioning.TEXT, Conditioning.IMAGE, Conditioning.CANNY])
def test_every_prompted_request_carries_a_negative_prompt_string(conditioning):
    """docs/contract.md: `negative_prompt` is always present for prompted kinds, so code that reads it with
    `request.get("negative_prompt")` never hands PixArt a None (which its pipeline cannot lower-case)."""
    for inp in draw_inputs(conditioning, 5, seed=2):
        request = inp.request()
        assert isinstance(request["negative_prompt"], str)


def test_the_formatter_leaves_every_file_hashed_into_a_standin_revision_alone():
    """ruff format must not touch what recipes.py hashes into the stand-ins' revisions (pyproject.toml says why)."""
    import tomllib

    from diffbench.models.standins import recipes

    root = Path(__file__).resolve().parent.parent
    excluded = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["ruff"]["format"]["exclude"])
    folder = Path(recipes.__file__).parent
    hashed = {str(f.relative_to(root)) for f in folder.glob("*.py") if f.name not in recipes._NOT_BUILDER_CODE}
    assert hashed == excluded
