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
from diffbench.models.profiles import tiny_cpu
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
    """The acceptance command. CI runs the command on two methods of one family (DiT, a transformer, the cheapest
    to call: 300 s for SD1.5 and DiT together, 2026-11-29) at one timed repetition per pair, without bf16/fp16: at
    50 steps each half-precision pair takes minutes on a CPU without bf16/fp16 instructions. CI still applies every
    method and checks that it took effect: test_knowledge_combinations (each composable method at least once),
    test_knowledge_detectors and test_effect_rules.
    DIFFBENCH_FULL_SIZE=1 runs every pair of every family at the default three repetitions."""
    kb = load_knowledge()
    families = [None] if FULL_SIZE else ["dit"]
    pairs: list[dict] = []
    for family in families:
        args = ["--reps", "3"]
        if not FULL_SIZE:
            methods = [m for m, _ in declared_pairs(kb, family) if m not in HALF_PRECISION_METHODS][:2]
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
        declared = {(m, f) for m, f in declared if f in families and m in methods}
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


def test_recording_some_methods_keeps_the_other_pairs_where_they_stood(monkeypatch, tmp_path):
    profile = tiny_cpu()

    def pair(method: str, family: str, speedup: float, variant: str | None = None) -> check_module.PairResult:
        return check_module.PairResult(
            method=method, variant=variant or method, family=family, model_id="m", profile=profile.name, ok=True,
            speedup=speedup, child_s=1.0,
        )  # fmt: skip

    monkeypatch.setattr(check_module, "MEASURED_DIR", tmp_path)
    first = [pair("ddim", "flux", 1.0), pair("cache_dit", "flux", 0.9), pair("cache_dit", "flux", 2.0, "cache_dit[t]")]
    first += [pair("tome", "sd15", 1.5), pair("cache_dit", "sd35", 0.8)]
    check_module.record_results(profile, first, 3, 10.0, True)
    again = [pair("cache_dit", "flux", 1.4), pair("cache_dit", "flux", 2.5, "cache_dit[t]")]
    path = check_module.record_results(profile, again, 3, 5.0, True, "flux", ["cache_dit"])
    data = json.loads(path.read_text())
    rows = [(p["method"], p["family"], p["variant"], p["speedup"]) for p in data["pairs"]]
    assert rows == [
        ("ddim", "flux", "ddim", 1.0),
        ("cache_dit", "flux", "cache_dit", 1.4),
        ("cache_dit", "flux", "cache_dit[t]", 2.5),
        ("tome", "sd15", "tome", 1.5),
        ("cache_dit", "sd35", "cache_dit", 0.8),
    ]
    assert [r["command"].endswith("--family flux -m cache_dit --sweep --record") for r in data["runs"]] == [False, True]
    everywhere = check_module.record_results(
        profile, [pair("cache_dit", "sd35", 1.1)], 3, 5.0, False, None, ["cache_dit"]
    )
    kept = [(p["method"], p["family"]) for p in json.loads(everywhere.read_text())["pairs"]]
    assert kept == [("ddim", "flux"), ("tome", "sd15"), ("cache_dit", "sd35")]
