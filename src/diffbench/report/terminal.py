"""The report in a terminal: Table 1 (S_p), Table 2 (S_a) and the error modes, one column group per run."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from diffbench.report.summary import LEVELS, MODES, RunSummary


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def pass_rate_table(runs: list[RunSummary]) -> Table:
    table = Table(title="Table 1: pass rate S_p (%) per level", title_justify="left")
    table.add_column("run")
    table.add_column("profile")
    for level in LEVELS:
        table.add_column(f"L{level}", justify="right")
    table.add_column("Avg", justify="right")
    for run in runs:
        by_level = {lv.level: lv for lv in run.levels}
        cells = [
            f"{_pct(by_level[lv].pass_rate)} ({by_level[lv].passed}/{by_level[lv].tasks})" if lv in by_level else "-"
            for lv in LEVELS
        ]
        table.add_row(run.label, run.profile, *cells, _pct(run.average_pass_rate))
    return table


def achievement_table(runs: list[RunSummary]) -> Table:
    table = Table(title="Table 2: achievement rate S_a (%) on hard tasks", title_justify="left")
    table.add_column("run")
    for level in (4, 5):
        table.add_column(f"L{level}", justify="right")
    for run in runs:
        by_level = {lv.level: lv for lv in run.levels}
        cells = []
        for level in (4, 5):
            lv = by_level.get(level)
            cells.append(f"{_pct(lv.achievement)} ({lv.hard_tasks} hard)" if lv and lv.hard_tasks else "-")
        table.add_row(run.label, *cells)
    return table


def error_table(run: RunSummary) -> Table:
    table = Table(title=f"Error modes per level, {run.label} (failed tasks by their first error)", title_justify="left")
    table.add_column("level")
    for mode in MODES:
        table.add_column(mode.replace("_", " "), justify="right")
    table.add_column("failed", justify="right")
    for lv in run.levels:
        table.add_row(f"L{lv.level}", *(str(lv.errors[m]) for m in MODES), f"{lv.tasks - lv.passed}/{lv.tasks}")
    return table


def print_report(runs: list[RunSummary], console: Console) -> None:
    for run in runs:
        usage = run.usage
        console.print(
            f"[bold]{run.run_dir}[/]: solver {run.label}, profile {run.profile}, {run.passed}/{run.tasks} passed"
            + (f", {usage['calls']} LLM calls ({usage['tokens_in']} in / {usage['tokens_out']} out tokens)"
               if usage["calls"] else ""),
            highlight=False,
        )  # fmt: skip
    console.print(pass_rate_table(runs))
    if any(lv.hard_tasks for run in runs for lv in run.levels):
        console.print(achievement_table(runs))
    for run in runs:
        console.print(error_table(run))
