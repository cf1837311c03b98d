"""The Optuna search over one baseline's space, and the run over every distinct level-4/5 baseline.

Objective: the speedup U of a configuration whose quality loss L stays within sigma (less SEARCH_MARGIN); a
configuration over the bound scores -L, so it ranks below every feasible one and the sampler still learns which way
is worse. The search starts from the knowledge base's usual first moves (space.warm_starts), then TPE. A candidate
that crashes or hangs costs its trial, never the run. The record is written after every baseline, so an interrupted
calibration resumes where it stopped.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

from diffbench.calibration.measure import Bench
from diffbench.calibration.space import Config, SearchSpace
from diffbench.calibration.store import (
    BaselineCalibration,
    CalibrationRecord,
    TrialRecord,
    read_record,
    task_baseline_key,
    write_record,
)
from diffbench.errors import DiffbenchError
from diffbench.evaluation.child import SolutionError
from diffbench.evaluation.inputs import draw_inputs
from diffbench.knowledge.compose import compose
from diffbench.knowledge.loader import KnowledgeBase, load_knowledge
from diffbench.models.device import describe_hardware
from diffbench.models.profiles import Profile
from diffbench.tasks.schema import Task

SIGMA = 0.05
# L is estimated from a few validation inputs; the search keeps this much below sigma so that the configuration
# found stays within sigma on the judge's other inputs.
SEARCH_MARGIN = 0.01
INPUTS_SEED = 5  # the validation inputs are fixed, so a calibration can be repeated and compared


def describe_platform(profile: Profile) -> str:
    """The hardware a target was measured on, as a level-5 prompt states it, and what weights ran."""
    hardware = describe_hardware(profile.device)
    if profile.builds_standins:
        return f"{hardware} running the {profile.name} stand-in weights"
    return f"{hardware} (fp32 baseline, real weights)"


def distinct_baselines(tasks: list[Task]) -> dict[str, Task]:
    """The first level-4/5 task of each distinct baseline, by baseline key."""
    out: dict[str, Task] = {}
    for task in tasks:
        if task.level >= 4:
            out.setdefault(task_baseline_key(task), task)
    return out


def search_baseline(
    bench: Bench, space: SearchSpace, task: Task, kb: KnowledgeBase, trials: int, sigma: float, seed: int,
    on_trial: Callable[[TrialRecord], None] | None = None,
) -> BaselineCalibration:  # fmt: skip
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    for start in space.warm_starts(task.baseline_sampler):
        study.enqueue_trial(start, skip_if_exists=True)
    records: list[TrialRecord] = []
    best: tuple[float, Config, TrialRecord] | None = None

    def objective(trial: optuna.Trial) -> float:
        nonlocal best
        config = space.suggest(trial)
        if config is None:
            raise optuna.TrialPruned("its methods do not compose")
        record = TrialRecord(number=trial.number, config=config.to_json(), describe=config.describe())
        records.append(record)
        source = compose(
            kb, task.model_id, task.conditioning, task.resolution, config.steps, config.applied(),
            title=f"calibration trial {trial.number}",
        )  # fmt: skip
        try:
            m = bench.measure(source, f"trial-{trial.number}")
        except SolutionError as err:
            record.error = str(err)[:500]
            if on_trial:
                on_trial(record)
            return -1.0
        record.loss, record.speedup, record.latency_s = m.loss, m.speedup, m.latency_s
        record.psnr_db = m.mean_psnr_db
        if on_trial:
            on_trial(record)
        feasible = m.loss <= sigma - SEARCH_MARGIN
        if feasible and (best is None or m.speedup > best[0]):
            best = (m.speedup, config, record)
        return m.speedup if feasible else -m.loss

    # Pruned trials (methods that do not compose) cost nothing, so they do not count against the budget.
    while sum(1 for r in records) < trials and len(study.trials) < trials * 20:
        study.optimize(objective, n_trials=1, catch=())
    result = BaselineCalibration(
        model_id=task.model_id,
        conditioning=str(task.conditioning),
        resolution=task.resolution,
        baseline_sampler=task.baseline_sampler,
        baseline_steps=task.baseline_steps,
        trials=records,
        baseline_s=median(bench.baseline_times),
    )
    if best is not None:
        speed, config, record = best
        result.best, result.best_describe = config.to_json(), config.describe()
        result.speedup, result.latency_s, result.loss = speed, record.latency_s, record.loss
    return result


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
) -> CalibrationRecord:
    """Search every distinct level-4/5 baseline (or those in `only`) and record the results."""
    kb = load_knowledge()
    where = {} if folder is None else {"folder": folder}
    record = read_record(profile.name, **where)
    command = f"diffbench calibrate --profile {profile.name} --trials {trials} --samples {samples}"
    if record is None or force or (record.trials, record.samples, record.sigma) != (trials, samples, sigma):
        record = CalibrationRecord(
            profile=profile.name, platform=describe_platform(profile), date="", command=command,
            trials=trials, samples=samples, sigma=sigma, seed=seed,
        )  # fmt: skip
    baselines = distinct_baselines(tasks)
    if only:
        by_task = {t.id: task_baseline_key(t) for t in tasks}
        unknown = [o for o in only if o not in baselines and by_task.get(o) not in baselines]
        if unknown:
            raise DiffbenchError(f"--only {unknown[0]!r} is neither a level-4/5 task id nor a baseline key")
        only = [by_task.get(o, o) for o in only]
    for key, task in baselines.items():
        if (only and key not in only) or (key in record.baselines and not force):
            continue
        start = time.perf_counter()
        validation = draw_inputs(task.conditioning, max(3, samples), INPUTS_SEED)[:samples]
        warmup = draw_inputs(task.conditioning, 3, INPUTS_SEED + 1)[0]
        space = SearchSpace(kb, task.model_id, task.conditioning, task.baseline_steps, profile.name)
        with Bench(work / task.id, profile, task.model_id, task.baseline_code, validation, warmup) as bench:
            result = search_baseline(bench, space, task, kb, trials, sigma, seed, on_trial)
        result.seconds = round(time.perf_counter() - start, 1)
        record.baselines[key] = result
        record.date = datetime.date.today().isoformat()
        write_record(record, **where)
        if on_baseline:
            on_baseline(key, result)
    return record
