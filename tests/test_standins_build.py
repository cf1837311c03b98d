import dataclasses
import hashlib

import pytest

from diffbench.errors import DiffbenchError
from diffbench.models.families import all_model_ids
from diffbench.models.profiles import get_profile, tiny_cpu
from diffbench.models.standins.build import build_standins
from diffbench.models.standins.recipes import RECIPES

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
CLIP = "openai/clip-vit-base-patch16"


@pytest.fixture
def fresh(tmp_path):
    return tiny_cpu().model_copy(update={"hub_cache": tmp_path / "hub"})


def digest(folder):
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(folder)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def test_every_registry_id_has_a_recipe():
    assert set(RECIPES) == set(all_model_ids())


def test_build_is_idempotent(fresh):
    first = build_standins(fresh, ids=[SD15, CLIP])
    assert [o.status for o in first] == ["built", "built"]
    again = build_standins(fresh, ids=[SD15, CLIP])
    assert [o.status for o in again] == ["current", "current"]
    assert [o.revision for o in again] == [o.revision for o in first]


def test_a_changed_recipe_rebuilds_only_its_model(fresh, monkeypatch):
    build_standins(fresh, ids=[SD15, CLIP])
    changed = dataclasses.replace(RECIPES[CLIP], params={**RECIPES[CLIP].params, "seed": 99})
    monkeypatch.setitem(RECIPES, CLIP, changed)
    outcomes = {o.model_id: o for o in build_standins(fresh, ids=[SD15, CLIP])}
    assert outcomes[SD15].status == "current"
    assert outcomes[CLIP].status == "built"
    assert fresh.store.revision(CLIP) == changed.revision


def test_force_rebuilds_everything_asked(fresh):
    build_standins(fresh, ids=[CLIP])
    assert [o.status for o in build_standins(fresh, ids=[CLIP], force=True)] == ["built"]


def test_builds_are_byte_for_byte_reproducible(tmp_path):
    a = tiny_cpu().model_copy(update={"hub_cache": tmp_path / "a"})
    b = tiny_cpu().model_copy(update={"hub_cache": tmp_path / "b"})
    build_standins(a, ids=[SD15])
    build_standins(b, ids=[SD15])
    assert digest(a.store.snapshot_dir(SD15)) == digest(b.store.snapshot_dir(SD15))


def test_cuda_profile_has_nothing_to_build():
    with pytest.raises(DiffbenchError, match="real weights"):
        build_standins(get_profile("cuda"))


def test_session_store_holds_every_id(profile):
    assert all(profile.store.has(model_id, RECIPES[model_id].revision) for model_id in all_model_ids())
