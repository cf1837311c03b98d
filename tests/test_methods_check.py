import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FULL_SIZE
from diffbench.calibration.machine_misses import HALF_PRECISION_METHODS
from diffbench.knowledge import check as check_module
from diffbench.knowledge import load_knowledge
from diffbench.knowledge.check import check_methods, declared_pairs
from diffbench.sandbox.oneshot import ChildOutcome

DIFFBENCH = Path(sys.executable).parent / "diffbench"


def outcome(result, timed_out=False):
    return ChildOutcome(0 if result else -9, timed_out, 1.0, result, "Killed\n", True)


def test_a_dead_family_child_costs_only_the_pair_that_killed_it(monkeypatch, profile):
    calls = []

    def fake_run_module(module, args, workdir, env, timeout_s):
        methods = [v["method"] for v in json.loads(args[args.index("--variants") + 1])]
        calls.append(methods)
        if len(methods) > 1:
            return outcome(None)  # the family's child died
        if methods == ["tome"]:
            return outcome(None, timed_out=True)  # and tome alone hangs
        return outcome([{"method": methods[0], "variant": methods[0], "ok": True, "speedup": 2.0}])

    monkeypatch.setattr(check_module, "run_module", fake_run_module)
    results = check_methods(load_knowledge(), profile, [("ddim", "sd15"), ("tome", "sd15"), ("fp16", "sd15")])
    assert calls == [["ddim", "tome", "fp16"], ["ddim"], ["tome"], ["fp16"]]
    assert [(r.method, r.ok) for r in results] == [("ddim", True), ("tome", False), ("fp16", True)]
    assert results[1].error == "timed out"


@pytest.mark.slow
def test_methods_check_json_runs_every_declared_pair_ok(profile):
    """The acceptance command. CI runs two families (a UNet and a transformer one) at one timed repetition per
    pair, without bf16/fp16: at 50 steps each half-precision pair takes minutes on a CPU without bf16/fp16
    instructions (CI covers them in test_knowledge_combinations and test_effect_rules).
    DIFFBENCH_FULL_SIZE=1 runs every pair of every family at the default three repetitions."""
    kb = load_knowledge()
    families = [None] if FULL_SIZE else ["sd15", "dit"]
    pairs: list[dict] = []
    for family in families:
        args = ["--reps", "3"]
        if not FULL_SIZE:
            methods = [m for m, _ in declared_pairs(kb, family) if m not in HALF_PRECISION_METHODS]
            args = ["--reps", "1", "--family", family] + [a for m in methods for a in ("-m", m)]
        out = subprocess.run(
            [str(DIFFBENCH), "methods", "check", "--json", *args], capture_output=True, text=True, timeout=2400
        )
        assert out.returncode == 0, out.stderr[-2000:]
        pairs += json.loads(out.stdout)["pairs"]
    failed = [(p["method"], p["family"], p["error"]) for p in pairs if not p["ok"]]
    assert not failed, failed
    declared = set(declared_pairs(kb))
    if not FULL_SIZE:
        declared = {(m, f) for m, f in declared if f in families and m not in HALF_PRECISION_METHODS}
    assert {(p["method"], p["family"]) for p in pairs} == declared
    assert all(p["variant"] == p["method"] for p in pairs)  # defaults only, without --sweep
    assert all(p["speedup"] > 0 and p["psnr_db"] > 20 for p in pairs)


def test_sweep_adds_the_ends_of_each_sensible_range():
    kb = load_knowledge()
    labels = [v["label"] for v in check_module.variants_for(kb, "deepcache", "sd15", sweep=True)]
    assert labels == [
        "deepcache",
        "deepcache[cache_interval=2]",
        "deepcache[cache_interval=5]",
        "deepcache[cache_branch_id=2]",
    ]  # cache_branch_id's low end, 0, is its default
    assert [v["label"] for v in check_module.variants_for(kb, "deepcache", "sd15", sweep=False)] == ["deepcache"]


def test_swept_values_keep_their_parameter_type():
    variants = check_module.variants_for(load_knowledge(), "tome", "sd15", sweep=True)
    assert {"label": "tome[max_downsample=2]", "method": "tome", "params": {"max_downsample": 2}} in variants
    assert all(type(v) is int for var in variants for k, v in var["params"].items() if k == "max_downsample")
