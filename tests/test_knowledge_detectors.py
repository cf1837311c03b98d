"""Each runtime detector finds its method, with the parameters applied, and nothing on a clean pipeline."""

import pytest

from diffbench.knowledge import load_knowledge
from diffbench.knowledge.check_worker import check_family
from knowledge_helpers import build

CASES = [
    ("sd15", "ddim", {"num_inference_steps": 7}, {"scheduler": "DDIMScheduler", "steps_last_run": 7}),
    (
        "sd15",
        "dpm_solver",
        {"num_inference_steps": 6, "solver_order": 3},
        {
            "scheduler": "DPMSolverMultistepScheduler",
            "steps_last_run": 6,
            "solver_order": 3,
            "algorithm_type": "dpmsolver++",
        },
    ),
    ("sd15", "unipc", {"num_inference_steps": 5}, {"scheduler": "UniPCMultistepScheduler", "steps_last_run": 5}),
    ("sd15", "deepcache", {"cache_interval": 4, "cache_branch_id": 1}, {"cache_interval": 4, "cache_branch_id": 1}),
    ("sdxl", "deepcache", {"cache_interval": 2}, {"cache_interval": 2, "cache_branch_id": 0}),
    ("sd15", "tome", {"ratio": 0.3, "max_downsample": 2}, {"ratio": 0.3, "max_downsample": 2}),
    ("sd15", "tgate", {"gate_step": 1}, {"loader": "tgate.SD"}),
    ("sdxl", "tgate", {"gate_step": 1}, {"loader": "tgate.SDXL"}),
    ("pixart-sigma", "tgate", {"gate_step": 1}, {"loader": "tgate.PixArt_Sigma"}),
    (
        "sdxl",
        "tgate_deepcache",
        {"cache_interval": 5, "gate_step": 1},
        {"loader": "tgate.SDXL_DeepCache", "cache_interval": 5, "cache_branch_id": 0},
    ),
    ("sd15", "fp16", {}, {"dtype": "float16"}),
    ("sd15", "bf16", {}, {"dtype": "bfloat16"}),
    ("sd15", "qkv_fusion", {}, {"fused_attentions": 20, "attentions": 20}),
    ("sd15", "channels_last", {}, {"memory_format": "channels_last"}),
    (
        "dit",
        "pab",
        {"spatial_skip": 3, "timestep_low": 50},
        {"spatial_skip": 3, "timestep_low": 50, "timestep_high": 800, "blocks": 6},
    ),
    ("pixart-sigma", "first_block_cache", {"threshold": 0.2}, {"threshold": 0.2}),
    # the extended suite's families and methods (issue 17)
    (
        "flux",
        "flow_euler",
        {"num_inference_steps": 3},
        {"scheduler": "FlowMatchEulerDiscreteScheduler", "steps_last_run": 3},
    ),
    ("flux", "first_block_cache", {"threshold": 0.2}, {"threshold": 0.2}),
    ("flux", "pab", {"spatial_skip": 3}, {"spatial_skip": 3, "timestep_low": 100, "timestep_high": 800, "blocks": 9}),
    ("sd35", "pab", {"spatial_skip": 2}, {"spatial_skip": 2, "timestep_low": 100, "timestep_high": 800, "blocks": 6}),
    ("flux", "taylorseer_cache", {"cache_interval": 3}, {"hooks": 9}),
    ("sd35", "taylorseer_cache", {"cache_interval": 3}, {"hooks": 6}),
    ("flux", "mag_cache", {"threshold": 0.1}, {"threshold": 0.1}),
    ("flux", "cache_dit", {"threshold": 0.3}, {"cached_steps": 0}),
    ("sd35", "cache_dit", {"threshold": 0.3, "taylorseer": True}, {"cached_steps": 0}),
    ("flux", "torchao_int8", {}, {"layers": 88}),
    ("sd35", "torchao_int8", {}, {"layers": 88}),
    ("flux", "qkv_fusion", {}, {"fused_attentions": 9, "attentions": 9}),
    ("qwen-image", "taylorseer_cache", {"cache_interval": 3}, {"hooks": 6}),
    ("qwen-image", "cache_dit", {"threshold": 0.3}, {"cached_steps": 0}),
]


@pytest.mark.parametrize(("family", "key", "params", "expected"), CASES, ids=[f"{c[1]}-{c[0]}" for c in CASES])
def test_detector_reads_back_what_was_applied(profile, tmp_path, family, key, params, expected):
    # The precision detectors read parameter dtypes, which need no call; a half-precision call costs ~30 s on a
    # CPU without bf16/fp16 instructions (whether the dtype computes is the effect rules' test).
    pipe = build(profile, tmp_path, family, [(key, params)], run=key not in ("fp16", "bf16"))
    found = load_knowledge().detect_all(pipe)
    native = {"sdxl": set(), "sd15": set(), "pixart-sigma": {"dpm_solver"}, "dit": {"ddim"}, "flux": {"flow_euler"},
              "sd35": {"flow_euler"}, "qwen-image": {"flow_euler"}}[family]  # fmt: skip
    assert found.pop(key) == expected
    assert set(found) <= native, f"other detectors fired: {found}"


@pytest.mark.parametrize(
    ("key", "params", "expected"),
    [
        ("sdpa_backend", {"backend": "math"}, {"backend": "math"}),
        ("cfg_truncation", {"fraction": 0.5}, {"fraction": 0.6}),
    ],
)
def test_call_time_methods_are_read_from_the_calls_trace(profile, tmp_path, key, params, expected):
    """A kernel context and a step callback exist only during the call: their detectors read its trace (5 DDIM
    steps: guidance dropped after step int(5 * 0.5) = 2, so 3 of 5 steps keep it)."""
    methods = [("ddim", {"num_inference_steps": 5}), (key, params)]
    pipe, observed = build(profile, tmp_path, "sd15", methods, steps=5, traced=True)
    assert observed["methods"][key] == expected
    assert observed["effects"][key]["took_effect"] is True
    assert key not in load_knowledge().detect_all(pipe)  # nothing of them stays on the pipeline


@pytest.mark.parametrize("family", ["dit", "pixart-alpha"])
def test_qkv_fusion_on_transformers(profile, tmp_path, family):
    found = load_knowledge().detect_all(build(profile, tmp_path, family, [("qkv_fusion", {})]))
    assert found["qkv_fusion"]["fused_attentions"] == found["qkv_fusion"]["attentions"] > 0


def test_torch_compile_is_detected_without_running(profile, tmp_path):
    pipe = build(profile, tmp_path, "sd15", [("torch_compile", {})], run=False)
    assert load_knowledge().detector("torch_compile")(pipe) == {"compiled": "OptimizedModule"}


def test_regional_compilation_is_detected_on_the_repeated_blocks(profile, tmp_path):
    pipe = build(profile, tmp_path, "flux", [("regional_compile", {})], run=False)
    assert load_knowledge().detector("regional_compile")(pipe) == {"compiled_blocks": 9}  # 3 double + 6 single


def test_clean_pipelines_carry_nothing_but_their_native_scheduler(profile, tmp_path):
    kb = load_knowledge()
    assert kb.detect_all(build(profile, tmp_path, "sd15", [])) == {}  # SD1.5 samples with PNDM natively
    dit = kb.detect_all(build(profile, tmp_path, "dit", []))
    assert set(dit) == {"ddim"}  # DiT's own scheduler is DDIM: that is what the pipeline carries


def test_disabled_deepcache_is_not_reported(profile, tmp_path):
    from DeepCache import DeepCacheSDHelper

    pipe = build(profile, tmp_path, "sd15", [], run=False)
    helper = DeepCacheSDHelper(pipe=pipe)
    helper.set_params(cache_interval=3)
    helper.enable()
    assert load_knowledge().detector("deepcache")(pipe) is not None
    helper.disable()
    assert load_knowledge().detector("deepcache")(pipe) is None


CACHE_DIT_CACHING = {"threshold": 0.5, "warmup_steps": 2}  # caches steps within 8 (test_knowledge_combinations)


@pytest.mark.slow
def test_cache_dits_statistics_belong_to_the_last_call_of_any_pipeline_of_its_class(profile, tmp_path):
    """cache-dit 1.5.3 wraps the pipeline *class*'s __call__: a call of another FLUX pipeline in the same process
    resets the statistics the cached pipeline keeps on its transformer, so they must be read right after its own
    call (the methods check, which runs a family's candidates in one process, does: next test)."""
    detect = load_knowledge().detector("cache_dit")
    pipe = build(profile, tmp_path, "flux", [("cache_dit", CACHE_DIT_CACHING)], steps=8)
    assert detect(pipe)["cached_steps"] > 0
    build(profile, tmp_path, "flux", [], steps=8)  # another pipeline of the class, called once
    assert detect(pipe) == {"cached_steps": 0}


@pytest.mark.slow
def test_the_methods_check_reads_each_candidate_right_after_its_own_call(profile, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the check's child writes its composed modules into its working folder
    variants = [
        {"label": "cache_dit", "method": "cache_dit", "params": CACHE_DIT_CACHING},
        {"label": "first_block_cache", "method": "first_block_cache", "params": {}},  # called after it
    ]
    rows = check_family("flux", variants, profile, steps=8, reps=1)
    assert [r["ok"] for r in rows] == [True, True], rows
    assert rows[0]["detected"]["cached_steps"] > 0
