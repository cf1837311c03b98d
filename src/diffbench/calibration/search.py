"""The Optuna search over one baseline's space, and the run over every distinct level-4/5 baseline.

Two passes, each measured by the judge's protocol (evaluation/measure.py), so a target is what the judge would
measure. The screen: `trials` configurations measured cheaply (the validation inputs for L, one timing round on
two inputs for U). Objective: the speedup U of a configuration whose quality loss L stays within sigma (less
SEARCH_MARGIN); a configuration over the bound scores -L, so it ranks below every feasible one and the sampler
still learns which way is worse. It starts from the knowledge base's usual first moves (space.warm_starts), then
TPE. The re-check: the RECHECK best screened configurations within sigma measured again at the judge's timing size
(three inputs, two rounds); the best re-measured one sets U*. Then its stability: the chosen configuration measured
STABILITY_RUNS more times at the judge's full timing size, each time on a fresh draw of timing inputs (the judge
draws secret ones), so the targets' margin covers this configuration's own spread on this machine
(store.BaselineCalibration.tolerances). A candidate that crashes or hangs costs its trial, never the run;
`budget_s` ends a baseline's screen early. The record is written after every baseline, so an interrupted
calibration resumes where it stopped.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from pathlib import Path

from diffbench.calibration.space import SearchPoint, SearchSpace
from diffbench.calibration.store import (
    RECHECK_STAGE,
    STABILITY_STAGE,
    BaselineCalibration,
    CalibrationRecord,
    TrialRecord,
    read_record,
    task_calibration_key,
    write_record,
)
from diffbench.errors import DiffbenchError
from diffbench.evaluation.child import SolutionError
from diffbench.evaluation.measure import CALIBRATION_SEED, InputPlan, Measurement, ProtocolSizes
from diffbench.evaluation.measuring import MeasuringSession, TaskBaseline, search_session
from diffbench.knowledge.compose import compose
from diffbench.knowledge.loader import KnowledgeBase, KnowledgeError, load_knowledge
from diffbench.models.device import fast_half_precision_methods
from diffbench.models.profiles import Profile
from diffbench.tasks.schema import Task

SIGMA = 0.05
# L is estimated from a few validation inputs; the search keeps this much below sigma so that the configuration
# found stays within sigma on the judge's other inputs.
SEARCH_MARGIN = 0.01
RECHECK = 3  # screened configurations measured again at the judge's timing size
SEARCH = "screen + re-check, judge's protocol"  # recorded, so a record made by another search is not resumed
# The chosen configuration's stability runs: five, as the judge's documented bound is the max/min of five
# measurements (docs/benchmarks.md); each on timing inputs drawn from CALIBRATION_SEED + STABILITY_SEED_STEP * k.
STABILITY_RUNS = 5
STABILITY_SEED_STEP = 1000


def screen_protocol(samples: int) -> ProtocolSizes:
    return ProtocolSizes(samples=samples, timing_inputs=2, repetitions=1)


def recheck_protocol(samples: int) -> ProtocolSizes:
    return ProtocolSizes(samples=samples, timing_inputs=3, repetitions=2)


def stability_protocol(samples: int) -> ProtocolSizes:
    """The judge's timing size (ProtocolSizes' defaults, which JudgeOptions uses: three inputs, three rounds)."""
    return ProtocolSizes(samples=samples)


CRASHED = -1.0  # a trial whose candidate did not run


def trial_value(speedup: float, loss: float, bound: float) -> float:
    """The search's objective: the speedup within the quality bound; over it -L, so it ranks below every feasible
    point and TPE still learns which way is worse. Calibration's and the agent's search (agent/tuner.py) alike."""
    return speedup if loss <= bound else -loss


def distinct_baselines(tasks: list[Task]) -> dict[str, Task]:
    """The first level-4/5 task of each distinct baseline, by baseline key."""
    out: dict[str, Task] = {}
    for task in tasks:
        if task.level >= 4:
            out.setdefault(task_calibration_key(task), task)
    return out


def _source(kb: KnowledgeBase, task: Task, config: SearchPoint, title: str) -> str:
    return compose(kb, task.model_id, task.conditioning, task.resolution, config.steps, config.applied(), title=title,
                   width=task.width, frames=task.frames)  # fmt: skip


def _measured(record: TrialRecord, m: Measurement) -> None:
    record.loss, record.speedup, record.latency_s, record.psnr_db = m.loss, m.speedup, m.latency_s, m.mean_psnr_db


def search_baseline(
    session: MeasuringSession, space: SearchSpace, task: Task | None, kb: KnowledgeBase, trials: int, sigma: float,
    seed: int, on_trial: Callable[[TrialRecord], None] | None = None, budget_s: float | None = None,
    previous: SearchPoint | None = None, write: Callable[[SearchPoint, str], str] | None = None,
    base_sampler: str | None = None,
) -> tuple[list[TrialRecord], list[tuple[float, SearchPoint]]]:  # fmt: skip
    """The screen: every trial's record, and the configurations within sigma, fastest first. `previous` (the best
    configuration of the record this search replaces) is tried first, so the new search measures the old answer
    under its own protocol before it looks elsewhere. A task's baseline by default; any pipeline with `write` (a
    configuration's module) and `base_sampler` (the agent's users' pipelines, scripts/agent_value.py)."""
    if write is None or base_sampler is None:
        assert task is not None, "a search without a task needs write and base_sampler"
        base_sampler = base_sampler or task.baseline_sampler
        write = write or (lambda config, title: _source(kb, task, config, title))
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    point = space.point(previous) if previous is not None else None
    if point is not None:  # first: under a time budget the old answer is the one start that must be measured
        study.enqueue_trial(point, skip_if_exists=True)
    for start in space.warm_starts(base_sampler):
        study.enqueue_trial(start, skip_if_exists=True)
    records: list[TrialRecord] = []
    feasible: list[tuple[float, SearchPoint]] = []
    started = time.perf_counter()

    def objective(trial: optuna.Trial) -> float:
        config = space.suggest(trial)
        if config is None:
            raise optuna.TrialPruned("its methods do not compose")
        try:
            source = write(config, f"calibration trial {trial.number}")
        except (KnowledgeError, ValueError) as err:  # a point the knowledge base cannot compose costs nothing
            raise optuna.TrialPruned(str(err)) from None
        record = TrialRecord(number=trial.number, config=config.to_json(), describe=config.describe(), stage="screen")
        records.append(record)
        try:
            m = session.measure(source, f"trial-{trial.number}")
        except SolutionError as err:
            record.error = str(err)[:500]
            if on_trial:
                on_trial(record)
            return CRASHED
        _measured(record, m)
        if on_trial:
            on_trial(record)
        if m.loss <= sigma - SEARCH_MARGIN:
            feasible.append((m.speedup, config))
        return trial_value(m.speedup, m.loss, sigma - SEARCH_MARGIN)

    # Pruned trials (methods that do not compose) cost nothing, so they do not count against the budget.
    while len(records) < trials and len(study.trials) < trials * 20:
        if budget_s is not None and time.perf_counter() - started > budget_s:
            break
        study.optimize(objective, n_trials=1, catch=())
    return records, sorted(feasible, key=lambda f: -f[0])


def _measure_into(
    record: TrialRecord, session: MeasuringSession, source: str, name: str, plan: InputPlan | None
) -> None:
    """One judge-size measurement into `record`; a candidate that fails costs its trial (the error is kept)."""
    try:
        m = session.measure(source, name, plan)
    except SolutionError as err:
        record.error = str(err)[:500]
    else:
        _measured(record, m)


def recheck(
    session: MeasuringSession, task: Task, kb: KnowledgeBase, screened: list[tuple[float, SearchPoint]], sigma: float,
    first_number: int, on_trial: Callable[[TrialRecord], None] | None = None,
) -> tuple[list[TrialRecord], tuple[SearchPoint, TrialRecord] | None]:  # fmt: skip
    """The best screened configurations measured again at the judge's size; the fastest within sigma wins
    (`best_rechecked`)."""
    records: list[TrialRecord] = []
    for n, (_, config) in enumerate(screened[:RECHECK], start=first_number):
        record = TrialRecord(number=n, config=config.to_json(), describe=config.describe(), stage=RECHECK_STAGE)
        records.append(record)
        _measure_into(record, session, _source(kb, task, config, f"calibration re-check {n}"), f"recheck-{n}", None)
        if on_trial:
            on_trial(record)
    chosen = best_rechecked(records, sigma)
    return records, (SearchPoint.from_json(chosen.config), chosen) if chosen else None


def best_rechecked(trials: list[TrialRecord], sigma: float) -> TrialRecord | None:
    """The re-check measurement that sets U*: the fastest configuration within sigma - SEARCH_MARGIN, where a
    configuration re-checked more than once (the screen can rank the same one twice) counts at the lower median of
    its measurements. Taking the best of two measurements of one configuration would pick its luckier timing: on
    2026-11-29 FLUX.1-dev's best re-checked at 2.81x and 2.64x, and the judge then measured it at 2.52-2.94x
    (median 2.57x)."""
    by_config: dict[str, list[TrialRecord]] = {}
    for t in trials:
        if t.stage == RECHECK_STAGE and t.config and t.speedup is not None and t.loss is not None:
            by_config.setdefault(json.dumps(t.config, sort_keys=True), []).append(t)
    typical = [sorted(ts, key=lambda t: t.speedup)[(len(ts) - 1) // 2] for ts in by_config.values()]  # lower median
    within = [t for t in typical if t.loss <= sigma - SEARCH_MARGIN]
    return max(within, key=lambda t: t.speedup, default=None)


def stability(
    session: MeasuringSession, task: Task, kb: KnowledgeBase, config: SearchPoint, samples: int, first_number: int,
    runs: int = STABILITY_RUNS, on_trial: Callable[[TrialRecord], None] | None = None,
) -> list[TrialRecord]:  # fmt: skip
    """The chosen configuration measured `runs` times at the judge's timing size, each on fresh timing inputs."""
    records: list[TrialRecord] = []
    for k in range(runs):
        n = first_number + k
        record = TrialRecord(number=n, config=config.to_json(), describe=config.describe(), stage=STABILITY_STAGE)
        records.append(record)
        seed = CALIBRATION_SEED + STABILITY_SEED_STEP * (k + 1)
        plan: InputPlan = session.fresh_timing(seed, stability_protocol(samples))
        _measure_into(record, session, _source(kb, task, config, f"calibration stability {k}"), f"stability-{k}", plan)
        if on_trial:
            on_trial(record)
    return records


def measure_stability(
    profile: Profile, tasks: list[Task], work: Path, only: list[str] | None = None, force: bool = False,
    runs: int = STABILITY_RUNS, folder: Path | None = None,
    on_baseline: Callable[[str, BaselineCalibration], None] | None = None,
    on_trial: Callable[[TrialRecord], None] | None = None,
) -> CalibrationRecord:  # fmt: skip
    """No search: the stability runs of every recorded best configuration of `tasks`' baselines (or those in
    `only`) that has none yet (`force`: measured again), added to the record, which is written after each."""
    where = {} if folder is None else {"folder": folder}
    record = read_record(profile.name, **where)
    if record is None:
        raise DiffbenchError(f"no calibration record for profile {profile.name!r}: run `diffbench calibrate` first")
    kb = load_knowledge()
    for key, task in _selected(distinct_baselines(tasks), tasks, only).items():
        cal = record.baselines.get(key)
        if cal is None or cal.best is None:
            continue
        if not force and cal.has_stability_runs:
            continue
        start = time.perf_counter()
        kept = [t for t in cal.trials if t.stage != STABILITY_STAGE]
        with _session(work, profile, task, recheck_protocol(record.samples)) as session:
            runs_of = stability(
                session, task, kb, SearchPoint.from_json(cal.best), record.samples, len(kept), runs, on_trial
            )
        cal.trials = kept + runs_of
        cal.seconds = round(cal.seconds + time.perf_counter() - start, 1)
        write_record(record, **where)
        if on_baseline:
            on_baseline(key, cal)
    return record


def _session(work: Path, profile: Profile, task: Task, protocol: ProtocolSizes) -> MeasuringSession:
    """A search session on `task`'s baseline (evaluation/measuring.py) at calibration's fixed inputs."""
    baseline = TaskBaseline(task.model_id, task.baseline_code, task.conditioning)
    return search_session(work / task.id, profile, baseline, protocol, CALIBRATION_SEED)


def _selected(baselines: dict[str, Task], tasks: list[Task], only: list[str] | None) -> dict[str, Task]:
    """The baselines named in `only` (task ids or baseline keys), or all of them."""
    if not only:
        return baselines
    by_task = {t.id: task_calibration_key(t) for t in tasks}
    unknown = [o for o in only if o not in baselines and by_task.get(o) not in baselines]
    if unknown:
        raise DiffbenchError(f"--only {unknown[0]!r} is neither a level-4/5 task id nor a baseline key")
    keys = {by_task.get(o, o) for o in only}
    return {k: t for k, t in baselines.items() if k in keys}


def calibrate(
    profile: Profile,
    tasks: list[Task],
    work: Path,
    trials: int,
    samples: int,
    sigma: float = SIGMA,
    seed: int = 0,
    force: bool = False,
    only: list[str] | None = None,
    on_baseline: Callable[[str, BaselineCalibration], None] | None = None,
    on_trial: Callable[[TrialRecord], None] | None = None,
    folder: Path | None = None,
    budget_s: float | None = None,
    stability_runs: int = STABILITY_RUNS,
) -> CalibrationRecord:
    """Search every distinct level-4/5 baseline (or those in `only`) and record the results. `force` searches
    again baselines already recorded and keeps the others (a new record starts only when the settings differ)."""
    kb = load_knowledge()
    where = {} if folder is None else {"folder": folder}
    record = read_record(profile.name, **where)
    replaced = read_record(profile.name) if folder is not None else record  # whose best configurations are re-tried
    command = f"diffbench calibrate --profile {profile.name} --trials {trials} --samples {samples}"
    command += f" --budget-min {budget_s / 60:g}" if budget_s is not None else ""
    suites = {t.suite for t in tasks}
    command += f" --suite {suites.pop()}" if suites and suites != {"paper"} else ""
    platform = profile.platform()
    settings = (trials, samples, sigma, SEARCH)
    if record is None or (record.trials, record.samples, record.sigma, record.search) != settings:
        record = CalibrationRecord(
            profile=profile.name, platform=platform, date="", command=command,
            trials=trials, samples=samples, sigma=sigma, seed=seed, search=SEARCH,
        )  # fmt: skip
    for key, task in _selected(distinct_baselines(tasks), tasks, only).items():
        if key in record.baselines and not force:
            continue
        start = time.perf_counter()
        space = SearchSpace(
            kb, task.model_id, task.conditioning, task.baseline_steps, profile.name,
            fast_half_precision=fast_half_precision_methods(profile.device),
        )  # fmt: skip
        with _session(work, profile, task, screen_protocol(samples)) as session:
            old = replaced.baselines.get(key) if replaced is not None else None
            previous = SearchPoint.from_json(old.best) if old is not None and old.best else None
            screened, feasible = search_baseline(
                session, space, task, kb, trials, sigma, seed, on_trial, budget_s, previous
            )
        with _session(work, profile, task, recheck_protocol(samples)) as session:
            rechecked, best = recheck(session, task, kb, feasible, sigma, len(screened), on_trial)
            if best is not None and stability_runs:
                first = len(screened) + len(rechecked)
                rechecked += stability(session, task, kb, best[0], samples, first, stability_runs, on_trial)
            baseline_s = session.baseline_s
        result = BaselineCalibration(
            model_id=task.model_id, conditioning=str(task.conditioning), resolution=task.resolution,
            baseline_sampler=task.baseline_sampler, baseline_steps=task.baseline_steps,
            trials=screened + rechecked, baseline_s=baseline_s,
            command="" if command == record.command else command,
            platform="" if platform == record.platform else platform,
        )  # fmt: skip
        if best is not None:
            config, chosen = best
            result.best, result.best_describe = config.to_json(), config.describe()
            result.speedup, result.latency_s, result.loss = chosen.speedup, chosen.latency_s, chosen.loss
        result.seconds = round(time.perf_counter() - start, 1)
        record.baselines[key] = result
        record.date = datetime.date.today().isoformat()
        write_record(record, **where)
        if on_baseline:
            on_baseline(key, result)
    return record
