"""Declared compatibility holds: every declared conflict fails (or silently misbehaves) as its reason says,
and every declared composition runs with both methods found on the pipeline and both taking effect."""

import pytest

from conftest import FULL_SIZE
from diffbench.calibration.machine_misses import HALF_PRECISION_METHODS
from diffbench.knowledge import load_knowledge
from diffbench.knowledge.compose import Applied, compose
from diffbench.knowledge.loader import KnowledgeError
from diffbench.models.families import FAMILIES
from knowledge_helpers import build, default_conditioning


def first_family(a: str, b: str) -> str:
    kb = load_knowledge()
    shared = [f for f in FAMILIES if f in kb.method(a).families and f in kb.method(b).families]
    return shared[0]


def declared(kind: str) -> list[tuple[str, str]]:
    kb = load_knowledge()
    if kind == "conflicts":
        return [(m.key, c.method) for m in kb for c in m.conflicts]
    return [(m.key, other) for m in kb for other in m.composes_with]


def test_compose_refuses_declared_conflicts_with_the_reason():
    kb = load_knowledge()
    sd15 = FAMILIES["sd15"].default.id
    for a, b in declared("conflicts"):
        reason = kb.method(a).conflicts_with(b).reason
        with pytest.raises(KnowledgeError, match="conflict"):
            compose(kb, sd15, default_conditioning("sd15"), 256, 10, [Applied(a), Applied(b)])
        assert reason


SCHEDULER_SWAPS = [(a, b) for a, b in declared("conflicts") if {a, b} <= {"ddim", "dpm_solver", "unipc"}]
INERT = [(m.key, c.method) for m in load_knowledge() for c in m.conflicts if c.inert]
CACHES = {"first_block_cache", "pab", "taylorseer_cache", "faster_cache", "mag_cache", "cache_dit"}
ONE_CACHE = [(a, b) for a, b in declared("conflicts") if {a, b} <= CACHES]
SAMPLER_FAMILIES = [(a, b) for a, b in declared("conflicts") if "flow_euler" in (a, b)]  # never on one pipeline
CRASHES = [(a, b) for a, b in declared("conflicts") if (a, b) not in SCHEDULER_SWAPS + INERT + ONE_CACHE
           + SAMPLER_FAMILIES]  # fmt: skip


def steps_for(*keys: str) -> int:
    """Enough steps for both to act: past T-GATE's default gate (10)."""
    return 12 if {"tgate", "tgate_deepcache"} & set(keys) else 4


@pytest.mark.slow
@pytest.mark.parametrize(("a", "b"), SCHEDULER_SWAPS)
def test_two_samplers_silently_run_the_last_one(profile, tmp_path, a, b):
    pipe = build(profile, tmp_path, "sd15", [(a, {}), (b, {})], allow_conflicts=True)
    found = load_knowledge().detect_all(pipe)
    assert b in found and a not in found  # the code says `a`, the pipeline runs `b`


@pytest.mark.slow
@pytest.mark.parametrize(("a", "b"), INERT)
def test_an_inert_pair_runs_and_the_disabled_method_takes_no_effect(profile, tmp_path, a, b):
    family = first_family(a, b)
    _, observed = build(profile, tmp_path, family, [(a, {}), (b, {})], steps=steps_for(a, b), allow_conflicts=True,
                        traced=True)  # fmt: skip
    assert a in observed["methods"] and observed["effects"][a]["took_effect"] is False, observed["effects"]
    assert observed["effects"][b]["took_effect"] is True


@pytest.mark.slow
@pytest.mark.parametrize(("a", "b"), CRASHES)
def test_conflicting_caches_crash_on_the_halved_batch(profile, tmp_path, a, b):
    family = "sd15"
    with pytest.raises(RuntimeError, match=r"(?i)size"):
        build(profile, tmp_path, family, [(a, {}), (b, {})], steps=6, allow_conflicts=True)


def test_every_declared_conflict_is_of_a_tested_kind():
    assert ONE_CACHE and SAMPLER_FAMILIES and CRASHES
    kb = load_knowledge()
    for a, b in SAMPLER_FAMILIES:  # the flow-matching sampler and DDIM share no family: nothing to run
        assert not set(kb.method(a).families) & set(kb.method(b).families), (a, b)


@pytest.mark.slow
def test_diffusers_refuses_a_second_cache_on_one_transformer(profile, tmp_path):
    """The 'one step cache per transformer' conflicts: diffusers' own entry point refuses the second."""
    from diffusers import FirstBlockCacheConfig, TaylorSeerCacheConfig

    pipe = build(profile, tmp_path, "flux", [], run=False)
    pipe.transformer.enable_cache(FirstBlockCacheConfig(threshold=0.1))
    with pytest.raises(ValueError, match="already been enabled"):
        pipe.transformer.enable_cache(TaylorSeerCacheConfig(cache_interval=3))


def on_cpu(*keys: str) -> bool:
    """Whether every method runs on this CPU-only test machine (float8 is declared for cuda only)."""
    return all("cpu" in load_knowledge().method(k).devices for k in keys)


HALF_PARTNER_IN_CI = "first_block_cache"


def compositions_to_run() -> list[tuple[str, str]]:
    """Every declared composition that runs on a CPU, in each order it is declared in (DIFFBENCH_FULL_SIZE=1). CI
    (reduced size) runs a cover: in declaration order, a pair runs when it brings a method not yet run, so every
    composable method runs composed at least once, the mechanism at the smallest size (issue 32). A half-precision
    method runs with one partner only: on a CPU without bf16/fp16 instructions each such call takes 20-50 s."""
    pairs = [p for p in declared("composes_with") if on_cpu(*p)]
    if FULL_SIZE:
        return pairs
    cover: list[tuple[str, str]] = []
    covered: set[str] = set()
    for pair in pairs:
        if HALF_PRECISION_METHODS & set(pair) and HALF_PARTNER_IN_CI not in pair:
            continue
        if set(pair) - covered:
            cover.append(pair)
            covered |= set(pair)
    return cover


@pytest.mark.slow
@pytest.mark.parametrize(("a", "b"), compositions_to_run())
def test_declared_compositions_run_with_both_methods_present_and_in_effect(profile, tmp_path, a, b):
    _, observed = build(profile, tmp_path, first_family(a, b), [(a, {}), (b, {})], steps=steps_for(a, b), traced=True)
    assert a in observed["methods"] and b in observed["methods"], observed["methods"]
    failed = {k: e for k, e in observed["effects"].items() if e["took_effect"] is False}
    assert not failed, failed


def test_ci_runs_every_composable_method_at_least_once():
    in_ci = {k for p in compositions_to_run() for k in p}
    assert in_ci == {k for p in declared("composes_with") if on_cpu(*p) for k in p}


@pytest.mark.slow
def test_the_declared_unsupported_cache_dit_setting_fails_on_sd35_as_its_reason_says(profile, tmp_path):
    """The declaration holds against the pinned cache-dit: with bn_blocks=0 (the refusal bypassed) the first
    cached step raises what the reason quotes; with the default bn_blocks=1 the same call caches steps."""
    params = {"threshold": 0.5, "taylorseer": True, "warmup_steps": 2}
    _, observed = build(profile, tmp_path, "sd35", [("cache_dit", params)], steps=8, traced=True)
    assert observed["methods"]["cache_dit"]["cached_steps"] > 0
    reason = load_knowledge().method("cache_dit").unsupported[-1].reason
    assert "transformer_blocks_Bn_residual" in reason
    with pytest.raises(AssertionError, match="transformer_blocks_Bn_residual"):
        build(profile, tmp_path, "sd35", [("cache_dit", params)], steps=8,
              replace=("Bn_compute_blocks=1,", "Bn_compute_blocks=0,"))  # fmt: skip
