import shutil

import pytest

from diffbench.knowledge.loader import METHODS_DIR, KnowledgeError, load_knowledge
from diffbench.knowledge.schema import Parameter
from diffbench.models.families import FAMILIES

EXPECTED = {
    "ddim", "dpm_solver", "unipc", "deepcache", "tome", "tgate", "tgate_deepcache",
    "fp16", "bf16", "qkv_fusion", "channels_last", "torch_compile",
}  # fmt: skip


def test_methods_are_discovered_from_their_folders():
    assert set(load_knowledge().methods) >= EXPECTED


def test_every_family_with_a_template_has_its_file_and_unsupported_ones_have_none():
    kb = load_knowledge()
    for method in kb:
        for fam in method.families:
            assert kb.template_path(method.key, fam).is_file()
        for u in method.unsupported:
            if not u.conditionings and not u.settings:  # a settings entry leaves the method on the family
                assert not set(u.families) & set(method.families), method.key
            elif u.settings:
                assert set(u.families) <= set(method.families), method.key


def test_unet_only_methods():
    kb = load_knowledge()
    for key in ("deepcache", "tome", "tgate_deepcache", "channels_last"):
        assert set(kb.method(key).families) == {"sd15", "sd21", "sdxl"}
    assert "dit" not in kb.method("tgate").families
    overflow = {"flux", "qwen-image", "wan", "wan-i2v"}  # FLUX.1 and Qwen-Image overflow in float16; Wan runs bf16
    assert set(kb.method("fp16").families) == set(FAMILIES) - overflow
    assert kb.method("fp16").why_unsupported("flux").startswith("FLUX.1's T5-XXL")


def test_qwen_image_takes_flux_templates_where_it_has_none_of_its_own():
    """Both pipelines open the transformer's cache contexts themselves, so diffusers' cache hooks apply the same way;
    a FLUX-only template (MagCache with FLUX's magnitude ratios) is declared unsupported rather than inherited."""
    kb = load_knowledge()
    assert kb.method("first_block_cache").templates["qwen-image"] == "flux.py.j2"
    assert kb.method("taylorseer_cache").templates["qwen-image"] == "flux.py.j2"
    assert kb.method("cache_dit").templates["qwen-image"] == "transformer.py.j2"
    assert "qwen-image" not in kb.method("mag_cache").templates
    assert "FLUX_MAG_RATIOS" in kb.method("mag_cache").why_unsupported("qwen-image")


def test_template_for_unsupported_family_names_the_reason():
    with pytest.raises(KnowledgeError, match="transformer denoisers have neither"):
        load_knowledge().template_path("deepcache", "dit")


def copy_methods(tmp_path, *keys):
    for key in keys:
        shutil.copytree(METHODS_DIR / key, tmp_path / key)
    return tmp_path


def test_malformed_method_file_names_the_file(tmp_path):
    methods = copy_methods(tmp_path, "ddim")
    (methods / "ddim" / "method.yaml").write_text("key: ddim\nname: [unclosed\n")
    with pytest.raises(KnowledgeError, match=r"ddim/method.yaml"):
        load_knowledge(methods)


def test_key_must_match_folder(tmp_path):
    methods = copy_methods(tmp_path, "ddim")
    (methods / "ddim").rename(methods / "ddim2")
    with pytest.raises(KnowledgeError, match="must equal its folder name"):
        load_knowledge(methods)


def test_conflict_with_unknown_method_is_rejected(tmp_path):
    methods = copy_methods(tmp_path, "ddim")
    text = (methods / "ddim" / "method.yaml").read_text()
    conflict = "conflicts:\n  - method: warp_drive\n    reason: incompatible\n"
    (methods / "ddim" / "method.yaml").write_text(text + conflict)
    with pytest.raises(KnowledgeError, match="names unknown method 'warp_drive'"):
        load_knowledge(methods)


def test_parameter_values_are_checked():
    p = Parameter(name="cache_interval", type="int", default=3, low=1, high=10)
    assert p.validate_value(5) == 5
    for bad in (0, 11, 2.5, True):
        with pytest.raises(ValueError, match="cache_interval"):
            p.validate_value(bad)
    with pytest.raises(ValueError, match="default"):
        Parameter(name="x", type="choice", default=4, choices=(1, 2))


def test_resolve_merges_defaults_and_rejects_unknown_names():
    deepcache = load_knowledge().method("deepcache")
    assert deepcache.resolve({"cache_interval": 5}) == {"cache_interval": 5, "cache_branch_id": 0}
    with pytest.raises(KeyError, match="no parameter 'interval'"):
        deepcache.resolve({"interval": 5})


def test_measured_speedups_at_the_defaults_or_the_best_variant(monkeypatch):
    kb = load_knowledge()
    pairs = [
        {"method": "first_block_cache", "variant": "first_block_cache", "family": "flux", "ok": True, "speedup": 1.0},
        {"method": "first_block_cache", "variant": "first_block_cache[threshold=0.5]", "family": "flux", "ok": True,
         "speedup": 2.2},
        {"method": "pab", "variant": "pab", "family": "flux", "ok": False, "speedup": None},
        {"method": "pab", "variant": "pab", "family": "dit", "ok": True, "speedup": 1.4},
    ]  # fmt: skip
    monkeypatch.setattr(type(kb), "measured", lambda self, profile: {"pairs": pairs})
    assert kb.measured_speedups("tiny-cpu", "flux") == {"first_block_cache": 1.0}
    assert kb.measured_speedups("tiny-cpu", "flux", best_variant=True) == {"first_block_cache": 2.2}
    assert frozenset(("cache_dit", "bf16")) in kb.compatible_pairs()
