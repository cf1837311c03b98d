"""`diffbench calibrate`: search level-4/5 targets for a profile and write them into the task data."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from diffbench.cli.console import console, err_console, friendly_errors, print_json
from diffbench.cli.options import DEFAULT, DeviceOption, JsonOption, ProfileOption, UnsafeOption, open_profile
from diffbench.errors import DiffbenchError
from diffbench.tasks.schema import Difficulty

# Smaller than the paper's 50 trials and 36 samples, so that a baseline's screen and re-check take minutes on a
# 2-core CPU with the tiny-cpu stand-ins (docs/calibration.md has the measured time).
DEFAULT_TRIALS = 12
DEFAULT_SAMPLES = 2


@friendly_errors
def calibrate_command(
    profile: ProfileOption = DEFAULT,
    device: DeviceOption = None,
    unsafe_unconfined: UnsafeOption = False,
    trials: Annotated[
        int, typer.Option(min=1, help="screened trials per baseline (the paper: 50), then 3 re-checked")
    ] = DEFAULT_TRIALS,
    samples: Annotated[int, typer.Option(min=1, help="validation inputs per trial (the paper: 36)")] = DEFAULT_SAMPLES,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="a task id or baseline key to (re)calibrate; repeatable")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="search again baselines already recorded")] = False,
    seed: Annotated[int, typer.Option(help="the search's random seed")] = 0,
    budget_min: Annotated[
        float | None, typer.Option(min=0.1, help="minutes of screening per baseline at most (then the re-check)")
    ] = None,
    suite: Annotated[str, typer.Option("--suite", "-s", help="paper (the 604 tasks), extended or video")] = "paper",
    stability_runs: Annotated[
        int, typer.Option(min=0, help="fresh judge-size measurements of each best configuration (0: none)")
    ] = 5,
    stability_only: Annotated[
        bool,
        typer.Option(
            "--stability-only",
            help="no search: add the stability runs to recorded best configurations that have none (--force: all)",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """For every distinct level-4/5 baseline of the suite, search the knowledge base's space (Optuna) for the largest
    speedup within sigma = 5% quality loss; record it, then regenerate the suite so the tasks carry the targets (medium:
    the best found, easy 0.8x, hard 1.2x) and the configuration found as reference code. Resumable: baselines
    already recorded with the same settings are skipped. Each best configuration is then measured again, on fresh
    timing inputs, --stability-runs times; where its speedup or latency spreads wider than the judge's documented
    bound (1.10), its targets' margin is that spread (docs/calibration.md)."""
    prof = open_profile(profile, device, unsafe_unconfined)  # before anything imports huggingface_hub

    from diffbench.builders.generate import generate
    from diffbench.calibration.search import calibrate, measure_stability
    from diffbench.calibration.store import record_path
    from diffbench.models.standins.build import build_standins
    from diffbench.tasks.suite import load_suite, suite_dir, write_suite

    if stability_only and not stability_runs:
        raise DiffbenchError("--stability-only needs --stability-runs of at least 1")
    if prof.builds_standins:
        build_standins(prof)

    def on_trial(t) -> None:
        got = t.error or f"L = {t.loss:.1%}, U = {t.speedup:.2f}x"
        err_console.print(f"    {t.stage} {t.number}: {t.describe}: {got}", highlight=False)

    def on_baseline(key, result) -> None:
        best = "nothing within sigma"
        if result.best:
            best = f"{result.best_describe}: U* = {result.speedup:.2f}x, tolerance (U / latency) "
            best += result.describe_tolerances()
        err_console.print(f"  {key}: {best} ({result.seconds:.0f} s)", highlight=False)

    with tempfile.TemporaryDirectory(prefix="diffbench-calibrate-") as tmp:
        if stability_only:
            record = measure_stability(
                prof, load_suite(suite_dir(suite)), Path(tmp), only=only, force=force, runs=stability_runs,
                on_baseline=on_baseline, on_trial=on_trial,
            )  # fmt: skip
        else:
            record = calibrate(
                prof, load_suite(suite_dir(suite)), Path(tmp), trials, samples, seed=seed, force=force, only=only,
                on_baseline=on_baseline, on_trial=on_trial, budget_s=budget_min * 60 if budget_min else None,
                stability_runs=stability_runs,
            )  # fmt: skip
    write_suite(generate(suite=suite), suite_dir(suite))
    if as_json:
        print_json(record.model_dump(mode="json"))
        return
    table = Table(title=f"Calibration, {prof.describe()} ({record.trials} trials, {record.samples} samples)")
    for col in ("baseline", "best configuration", "L", "U*", "tolerance (U / latency)", "medium target"):
        table.add_column(col, overflow="fold")
    for key, cal in record.baselines.items():
        medium = cal.targets(Difficulty.MEDIUM, record.platform)
        table.add_row(
            key,
            cal.best_describe or "-",
            f"{cal.loss:.1%}" if cal.loss is not None else "-",
            f"{cal.speedup:.2f}" if cal.speedup is not None else "-",
            cal.describe_tolerances(),
            f"{medium.speedup:.2f}x / {medium.latency_s:.2f} s" if medium else "-",
        )
    console.print(table)
    console.print(f"record: {record_path(prof.name)}; task data regenerated")
