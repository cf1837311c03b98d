"""Calibration: the search space, the targets a record implies, the suite generated from records, resuming."""

from __future__ import annotations

import re

import optuna
import pytest

from diffbench.builders.generate import generate
from diffbench.builders.validate import check_task
from diffbench.calibration import search as search_module
from diffbench.calibration.search import (
    SEARCH,
    best_rechecked,
    calibrate,
    distinct_baselines,
    measure_stability,
    recheck,
    stability,
)
from diffbench.calibration.space import MIN_STEPS, NONE, SearchPoint, SearchSpace
from diffbench.calibration.store import (
    TIMING_TOLERANCE,
    BaselineCalibration,
    CalibrationRecord,
    TrialRecord,
    all_records,
    read_record,
    task_calibration_key,
    write_record,
)
from diffbench.errors import DiffbenchError
from diffbench.evaluation.measure import Measurement
from diffbench.knowledge import load_knowledge
from diffbench.knowledge.compose import Applied, compose
from diffbench.models.families import Conditioning
from diffbench.tasks.schema import Difficulty
from diffbench.tasks.suite import all_tasks, suite

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"


def test_there_are_31_distinct_level_4_5_baselines():
    baselines = distinct_baselines(list(suite()))
    assert len(baselines) == 31
    assert all(t.level == 4 for t in baselines.values())


def test_search_space_leaves_out_compile_and_what_measured_slower():
    space = SearchSpace(load_knowledge(), SD15, Conditioning.TEXT, 50, "tiny-cpu")
    assert space.samplers == ["ddim", "dpm_solver", "unipc"]
    assert "torch_compile" not in space.methods
    assert "fp16" not in space.methods  # measured 0.83x on the sd15 stand-in
    assert "deepcache" in space.methods


def test_search_space_suggests_composable_configs_and_prunes_others():
    space = SearchSpace(load_knowledge(), SD15, Conditioning.TEXT, 50, "tiny-cpu")
    trial = optuna.trial.FixedTrial(
        {"sampler": "ddim", "steps": 30, "method0": "deepcache", "method1": NONE,
         "deepcache.cache_interval": 4, "deepcache.cache_branch_id": 0}
    )  # fmt: skip
    config = space.suggest(trial)
    assert config is not None and config.methods[0].key == "deepcache"
    assert config.methods[0].params["cache_interval"] == 4
    assert SearchPoint.from_json(config.to_json()) == config
    clash = optuna.trial.FixedTrial({"sampler": "unipc", "steps": 20, "method0": "deepcache", "method1": "tgate"})
    assert space.suggest(clash) is None  # deepcache and tgate are not declared compatible


def test_the_extended_suites_space_samples_flow_matching_and_keeps_adaptive_caches():
    kb = load_knowledge()
    dev = SearchSpace(kb, "black-forest-labs/FLUX.1-dev", Conditioning.TEXT, 50, "tiny-cpu")
    assert dev.samplers == ["flow_euler"] and dev.min_steps == MIN_STEPS
    # FirstBlockCache skips nothing on the stand-in at its default threshold; its swept setting gains: kept.
    assert "first_block_cache" in dev.methods and "fp16" not in dev.methods
    schnell = SearchSpace(kb, "black-forest-labs/FLUX.1-schnell", Conditioning.TEXT, 4, "tiny-cpu")
    assert schnell.min_steps == 1  # a 4-step model may be cut to one step
    qwen = SearchSpace(kb, "Qwen/Qwen-Image", Conditioning.TEXT, 50, "tiny-cpu")
    assert qwen.samplers == ["flow_euler"] and "pab" not in qwen.methods  # PAB breaks on true CFG (methods check)
    baselines = {task.model_id for task in distinct_baselines(list(suite("extended"))).values()}
    assert baselines == {"black-forest-labs/FLUX.1-dev", "black-forest-labs/FLUX.1-schnell",
                         "stabilityai/stable-diffusion-3.5-medium", "stabilityai/stable-diffusion-3.5-large",
                         "Qwen/Qwen-Image"}  # fmt: skip


def test_a_device_without_fast_half_precision_leaves_half_precision_out_of_the_space():
    """bf16 measured 1.69x on SD3.5's stand-in on a CPU with bf16 instructions and 0.06x on one without: a search on
    the latter would time the machine, so its space leaves bf16 and fp16 out whatever the record says."""
    kb = load_knowledge()
    args = (kb, "stabilityai/stable-diffusion-3.5-large", Conditioning.TEXT, 28, "tiny-cpu")
    assert "bf16" in SearchSpace(*args).methods  # recorded at 1.69x
    without = SearchSpace(*args, fast_half_precision=())
    assert not {"bf16", "fp16"} & set(without.methods) and "pab" in without.methods
    bf16_only = SearchSpace(*args, fast_half_precision={"bf16"})  # an EPYC with avx512_bf16, no avx512_fp16
    assert "bf16" in bf16_only.methods and "fp16" not in bf16_only.methods


def test_every_suggested_configuration_composes_on_every_family():
    """A step count a sampler refuses (PixArt's DPM-Solver takes 5-50, the space starts at 4) is pruned, never
    composed: the 2026-11-27 calibration run stopped on one."""
    kb = load_knowledge()
    for task in distinct_baselines(list(suite()) + list(suite("extended"))).values():
        space = SearchSpace(kb, task.model_id, task.conditioning, task.baseline_steps, "tiny-cpu")
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
        for _ in range(15):
            trial = study.ask()
            config = space.suggest(trial)
            if config is not None:
                compose(kb, task.model_id, task.conditioning, task.resolution, config.steps, config.applied())
            study.tell(trial, 0.0)


def test_warm_starts_try_deepcache_at_its_documented_defaults():
    space = SearchSpace(load_knowledge(), SD15, Conditioning.TEXT, 50, "tiny-cpu")
    cached = [s for s in space.warm_starts("ddim") if s["method0"] == "deepcache"]
    assert [s["steps"] for s in cached] == [50, 30]
    for start in cached:
        config = space.suggest(optuna.trial.FixedTrial(start))  # every parameter given: nothing left to chance
        assert config.methods[0].params == {"cache_interval": 3, "cache_branch_id": 0}


def _record(best: dict | None, speedup: float | None = 2.1, latency: float | None = 1.0) -> CalibrationRecord:
    task = next(t for t in suite() if t.level == 4)
    key = task_calibration_key(task)
    cal = BaselineCalibration(
        model_id=task.model_id, conditioning=str(task.conditioning), resolution=task.resolution,
        baseline_sampler=task.baseline_sampler, baseline_steps=task.baseline_steps, best=best,
        speedup=speedup if best else None, latency_s=latency if best else None, loss=0.02 if best else None,
    )  # fmt: skip
    return CalibrationRecord(
        profile="tiny-cpu", platform="a test CPU", date="2026-11-23", command="test", trials=1, samples=1,
        sigma=0.05, seed=0, baselines={key: cal},
    )  # fmt: skip


def test_targets_follow_the_best_speedup_with_the_papers_factors():
    cal = next(iter(_record(SearchPoint("ddim", 20).to_json()).baselines.values()))
    medium = cal.targets(Difficulty.MEDIUM, "cpu")
    easy, hard = cal.targets(Difficulty.EASY, "cpu"), cal.targets(Difficulty.HARD, "cpu")
    for target, factor in ((easy, 0.8), (medium, 1.0), (hard, 1.2)):
        exact = factor * 2.1 / 1.10  # U* over the stability bound, times the difficulty
        assert exact - 0.01 < target.speedup <= exact  # rounded down, never tighter
    assert easy.latency_s > medium.latency_s > hard.latency_s
    assert next(iter(_record(None).baselines.values())).targets(Difficulty.MEDIUM, "cpu") is None
    assert medium.platform == "cpu"  # the record's machine, unless the baseline was searched on another:
    cal.platform = "another CPU"
    assert cal.targets(Difficulty.MEDIUM, "cpu").platform == "another CPU"


def test_a_record_sets_targets_and_reference_of_its_tasks_and_they_still_validate():
    best = SearchPoint("dpm_solver", 12, (Applied("tome", {"ratio": 0.4, "max_downsample": 1}),)).to_json()
    record = _record(best)
    tasks = generate(calibration={"tiny-cpu": record})
    key = next(iter(record.baselines))
    mine = [t for t in tasks if t.level >= 4 and task_calibration_key(t) == key]
    assert len(mine) == 6  # three difficulties at levels 4 and 5
    kb = load_knowledge()
    for task in mine:
        assert task.reference_source == "calibration"
        assert task.sampler == "dpm_solver" and task.steps == 12
        assert "tomesd" in task.reference_code
        assert "tiny-cpu" in task.targets
        assert "not calibrated" not in task.prompt_for("tiny-cpu")
        assert check_task(task, kb) == []
    others = [t for t in tasks if t.level >= 4 and t not in mine]
    assert all(t.reference_source == "generator" and not t.targets for t in others)


def test_calibration_resumes_without_measuring_recorded_baselines(tmp_path, profile):
    record = _record(SearchPoint("ddim", 20).to_json())
    record.command, record.trials, record.samples, record.search = "x", 3, 2, SEARCH
    write_record(record, folder=tmp_path)
    key = next(iter(record.baselines))
    task = distinct_baselines(list(suite()))[key]
    # Only the recorded baseline is asked for: nothing is measured, so no child is started at all.
    again = calibrate(profile, list(suite()), tmp_path / "work", 3, 2, only=[task.id], folder=tmp_path)
    assert again.baselines[key].speedup == 2.1
    assert read_record("tiny-cpu", folder=tmp_path) is not None
    assert not (tmp_path / "work").exists()
    with pytest.raises(DiffbenchError, match="L1-001"):
        calibrate(profile, list(suite()), tmp_path / "work", 3, 2, only=["L1-001"], folder=tmp_path)


class FakeBench:
    """Measures a configuration by what its source says: a step count maps to a (loss, speedup)."""

    def __init__(self, figures: dict[int, tuple[float, float]]) -> None:
        self.figures = figures
        self.names: list[str] = []

        self.seeds: list[int] = []  # the timing draws asked for by fresh_timing
        self.plans: list[object] = []  # the plan each measurement was timed on (None: the search's own)

    def fresh_timing(self, seed: int, protocol) -> str:
        self.seeds.append(seed)
        return f"plan {seed} {protocol.timing_inputs}x{protocol.repetitions}"

    def measure(self, source: str, name: str, plan=None, asked=()) -> Measurement:
        self.names.append(name)
        self.plans.append(plan)
        steps = int(re.search(r"NUM_INFERENCE_STEPS = (\d+)", source).group(1))
        loss, speed = self.figures.get(steps, (0.5, 1.0))
        return Measurement(loss=loss, speedup=speed, latency_s=1.0 / speed, baseline_s=1.0)


def test_the_recheck_picks_the_fastest_re_measured_configuration_within_sigma():
    task = next(t for t in suite() if t.level == 4)
    kb = load_knowledge()
    screened = [
        (3.0, SearchPoint("ddim", 10)),
        (2.5, SearchPoint("ddim", 12)),
        (2.0, SearchPoint("ddim", 14)),
        (1.5, SearchPoint("ddim", 16)),
    ]
    # Re-measured: the screen's fastest is over the bound now, the second is slower than the third.
    bench = FakeBench({10: (0.06, 3.1), 12: (0.01, 2.2), 14: (0.02, 2.4), 16: (0.0, 9.0)})
    records, best = recheck(bench, task, kb, screened, 0.05, first_number=7)
    assert [r.number for r in records] == [7, 8, 9] and all(r.stage == "re-check" for r in records)
    assert best is not None and best[0] == SearchPoint("ddim", 14) and best[1].speedup == 2.4  # 16 was never re-checked


def test_a_configuration_re_checked_twice_counts_at_its_lower_median():
    """The screen may rank one configuration twice; the best of its two re-measurements would be its luckier timing
    (FLUX.1-dev, 2026-11-29: 2.81x and 2.64x re-checked, 2.52-2.94x in the judge, median 2.57x)."""

    def trial(n: int, steps: int, speedup: float, loss: float = 0.02) -> TrialRecord:
        config = SearchPoint("ddim", steps)
        return TrialRecord(number=n, config=config.to_json(), describe=config.describe(), loss=loss, speedup=speedup,
                           latency_s=1 / speedup, stage="re-check")  # fmt: skip

    twice = [trial(1, 20, 2.81), trial(2, 20, 2.64), trial(3, 24, 2.70)]
    assert best_rechecked(twice, 0.05) is twice[2]  # 20 steps counts at 2.64, so 24 steps at 2.70 wins
    thrice = [trial(1, 20, 2.9), trial(2, 20, 2.5), trial(3, 20, 2.75)]
    assert best_rechecked(thrice, 0.05) is thrice[2]  # the median of three
    over = [trial(1, 20, 3.0, loss=0.045), trial(2, 24, 2.0)]
    assert best_rechecked(over, 0.05) is over[1]  # within sigma less the search margin only
    screened = [TrialRecord(number=1, config=SearchPoint("ddim", 10).to_json(), loss=0.0, speedup=5.0, stage="screen")]
    assert best_rechecked(screened, 0.05) is None  # a screen figure never sets U*


def test_every_committed_baseline_s_u_star_is_the_one_its_recorded_re_checks_give():
    """The committed records were re-derived under `best_rechecked` on 2026-11-29 (no new measurement); a record
    edited by hand or made under another rule would differ here."""
    for profile, record in all_records().items():
        for key, cal in record.baselines.items():
            chosen = best_rechecked(cal.trials, record.sigma)
            derived = (chosen.config, chosen.speedup) if chosen else (None, None)
            assert derived == (cal.best, cal.speedup), (profile, key)


def test_a_record_made_by_another_search_is_not_resumed(tmp_path, profile, monkeypatch):
    record = _record(SearchPoint("ddim", 20).to_json())
    record.trials, record.samples = 3, 2  # the settings match; the search (the default, older one) does not
    write_record(record, folder=tmp_path)
    asked: list[str] = []
    monkeypatch.setattr(search_module, "search_session", lambda *a, **k: asked.append("measured") or 1 / 0)
    key = next(iter(record.baselines))
    task = distinct_baselines(list(suite()))[key]
    with pytest.raises(ZeroDivisionError):
        calibrate(profile, list(suite()), tmp_path / "work", 3, 2, only=[task.id], folder=tmp_path)
    assert asked == ["measured"]


def test_the_screen_stops_at_its_time_budget_and_keeps_what_it_measured():
    task = next(t for t in suite() if t.level == 4 and t.model_id == SD15)
    kb = load_knowledge()
    space = SearchSpace(kb, task.model_id, task.conditioning, task.baseline_steps, "tiny-cpu")
    bench = FakeBench({})
    records, feasible = search_module.search_baseline(bench, space, task, kb, 5, 0.05, 0, budget_s=0.0)
    assert records == [] and feasible == [] and bench.names == []
    records, feasible = search_module.search_baseline(bench, space, task, kb, 3, 0.05, 0)
    assert len(records) == 3 and all(r.stage == "screen" for r in records) and len(bench.names) == 3


def test_the_search_re_tries_the_best_configuration_of_the_record_it_replaces():
    task = next(t for t in suite() if t.level == 4 and t.model_id == SD15)
    kb = load_knowledge()
    space = SearchSpace(kb, task.model_id, task.conditioning, task.baseline_steps, "tiny-cpu")
    previous = SearchPoint("unipc", 17, (Applied("deepcache", {"cache_interval": 4, "cache_branch_id": 1}),))
    point = space.point(previous)
    assert point is not None and space.suggest(optuna.trial.FixedTrial(point)).key() == previous.key()
    assert space.point(SearchPoint("unipc", 17, (Applied("torch_compile", {}),))) is None  # outside the space
    bench = FakeBench({})
    records, _ = search_module.search_baseline(bench, space, task, kb, 2, 0.05, 0, previous=previous)
    assert records[0].describe == previous.describe()  # before the warm starts: a budget may stop the screen early
    first_start = space.warm_starts(task.baseline_sampler)[0]
    assert records[1].describe == space.suggest(optuna.trial.FixedTrial(first_start)).describe()
    # every best configuration of the committed tiny-cpu record lies in today's space, or is said not to
    committed = read_record("tiny-cpu")
    for key, cal in committed.baselines.items():
        if cal.best:
            first = next(t for t in all_tasks() if t.level >= 4 and task_calibration_key(t) == key)
            there = SearchSpace(kb, first.model_id, first.conditioning, first.baseline_steps, "tiny-cpu")
            best = SearchPoint.from_json(cal.best)
            point = there.point(best)
            assert point is not None, f"{key}: {cal.best_describe} is not a point of today's space"
            kept = tuple(m for m in best.methods if m.key != "qkv_fusion" or "tgate" not in point.values())
            assert (
                there.suggest(optuna.trial.FixedTrial(point)).key() == SearchPoint(best.sampler, best.steps, kept).key()
            )


def test_force_searches_the_named_baseline_again_and_keeps_the_others(tmp_path, profile, monkeypatch):
    record = _record(SearchPoint("ddim", 20).to_json())
    record.trials, record.samples, record.search = 2, 2, SEARCH
    first_key = next(iter(record.baselines))
    other = next(t for t in suite() if t.level >= 4 and task_calibration_key(t) != first_key)
    record.baselines[task_calibration_key(other)] = record.baselines[first_key].model_copy(deep=True)
    write_record(record, folder=tmp_path)

    class FakeLive(FakeBench):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__({})
            self.baseline_s = 1.0

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            pass

    monkeypatch.setattr(search_module, "search_session", FakeLive)
    task = distinct_baselines(list(suite()))[first_key]
    again = calibrate(profile, list(suite()), tmp_path / "work", 2, 2, only=[task.id], force=True, folder=tmp_path)
    stored = read_record("tiny-cpu", folder=tmp_path)
    assert set(stored.baselines) == {first_key, task_calibration_key(other)} == set(again.baselines)
    assert len(stored.baselines[first_key].trials) == 2  # searched again: two screened trials, none within sigma
    assert stored.baselines[task_calibration_key(other)].speedup == 2.1  # kept as it was


def _measured_trial(n: int, config: SearchPoint, speedup: float, latency: float, stage: str) -> TrialRecord:
    return TrialRecord(number=n, config=config.to_json(), describe=config.describe(), loss=0.02, speedup=speedup,
                       latency_s=latency, stage=stage)  # fmt: skip


def test_stability_runs_widen_the_margin_to_the_chosen_configurations_own_spread():
    """FLUX.1-dev on 2026-11-29: re-checked at 2.81x and 2.64x (U* 2.64x), then judged at 2.38-2.74x; the fixed
    1.10 put the medium latency target inside the reference's own timing noise (X5-002 failed by 1%)."""
    best = SearchPoint("flow_euler", 29)
    cal = next(iter(_record(best.to_json(), speedup=2.64, latency=1.92).baselines.values()))
    cal.trials = [_measured_trial(1, best, 2.81, 1.80, "re-check"), _measured_trial(2, best, 2.64, 1.92, "re-check"),
                  _measured_trial(3, SearchPoint("flow_euler", 20), 1.5, 9.0, "re-check")]  # fmt: skip
    assert cal.tolerances() == (TIMING_TOLERANCE, TIMING_TOLERANCE)  # re-checks alone: the documented bound
    before = cal.targets(Difficulty.MEDIUM, "cpu")
    runs = [(2.70, 1.85), (2.38, 2.13), (2.60, 1.95), (2.74, 1.81), (2.55, 2.0)]
    cal.trials += [_measured_trial(4 + k, best, u, lat, "stability") for k, (u, lat) in enumerate(runs)]
    u_tol, lat_tol = cal.tolerances()
    assert u_tol == pytest.approx(2.81 / 2.38 - 1) and lat_tol == pytest.approx(2.13 / 1.80 - 1)  # not 20 steps'
    after = cal.targets(Difficulty.MEDIUM, "cpu")
    measured = cal.judge_size_measurements()
    assert after.speedup <= min(t.speedup for t in measured) < before.speedup
    assert after.latency_s >= max(t.latency_s for t in measured) > before.latency_s
    assert after.best_speedup == before.best_speedup == 2.64  # U* itself stays the re-checks' lower median
    cal.trials = [*cal.trials[:3], _measured_trial(9, best, 2.7, 1.9, "stability")]  # a spread under the bound
    assert cal.tolerances() == (TIMING_TOLERANCE, TIMING_TOLERANCE)


def test_stability_measures_the_chosen_configuration_on_fresh_timing_draws_at_the_judges_size():
    task = next(t for t in suite() if t.level == 4)
    bench = FakeBench({14: (0.02, 2.4)})
    records = stability(bench, task, load_knowledge(), SearchPoint("ddim", 14), 2, first_number=10, runs=3)
    assert [r.number for r in records] == [10, 11, 12] and {r.stage for r in records} == {"stability"}
    assert len(set(bench.seeds)) == 3 and all(p.endswith("3x3") for p in bench.plans)  # three draws, 3 inputs x 3
    assert all(r.speedup == 2.4 for r in records)


def test_stability_only_adds_runs_to_recorded_best_configurations_and_keeps_their_search(
    tmp_path, profile, monkeypatch
):
    best = SearchPoint("ddim", 20)
    record = _record(best.to_json())
    key = next(iter(record.baselines))
    record.baselines[key].trials = [_measured_trial(0, best, 2.1, 1.0, "re-check")]
    write_record(record, folder=tmp_path)
    benches: list[FakeBench] = []

    class FakeLive(FakeBench):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__({20: (0.02, 1.75)})  # this machine's draws come out slower than the re-check
            benches.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            pass

    monkeypatch.setattr(search_module, "search_session", FakeLive)
    task = distinct_baselines(list(suite()))[key]
    measure_stability(profile, list(suite()), tmp_path / "work", only=[task.id], runs=2, folder=tmp_path)
    stored = read_record("tiny-cpu", folder=tmp_path).baselines[key]
    assert [t.stage for t in stored.trials] == ["re-check", "stability", "stability"]
    assert stored.best == best.to_json() and stored.speedup == 2.1  # the search's result stands
    assert stored.tolerances()[0] == pytest.approx(2.1 / 1.75 - 1)
    measure_stability(profile, list(suite()), tmp_path / "work", only=[task.id], runs=2, folder=tmp_path)
    assert len(benches) == 1  # already measured: not again without force
    measure_stability(profile, list(suite()), tmp_path / "work", only=[task.id], runs=3, force=True, folder=tmp_path)
    assert [t.stage for t in read_record("tiny-cpu", folder=tmp_path).baselines[key].trials].count("stability") == 3
