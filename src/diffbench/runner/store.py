"""The run database: one SQLite file (WAL) per run folder, written as things happen.

Tables: `meta` (what the run is: solver, model, profile, options; a run folder never mixes two), `solutions`
(each task's module and the solver's usage and history, written as soon as the solver returns, so a resumed run
re-judges it instead of paying the LLM again), `candidates` (every candidate the agent measured on the way),
`exchanges` (every LLM exchange with tokens, latency and cost), `results` (the judge's verdict, one row per task,
written in one transaction when the judge returns). A SIGKILL at any moment loses at most the task in flight.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from diffbench.errors import DiffbenchError
from diffbench.evaluation.result import EvalResult

DB_FILE = "run.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS solutions (
    task_id TEXT PRIMARY KEY, code TEXT, usage TEXT NOT NULL, history TEXT NOT NULL, seconds REAL NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS candidates (
    task_id TEXT NOT NULL, idx INTEGER NOT NULL, generation INTEGER, describe TEXT, loss REAL, speedup REAL,
    latency_s REAL, fitness REAL, error TEXT, data TEXT NOT NULL, PRIMARY KEY (task_id, idx)
);
CREATE TABLE IF NOT EXISTS exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL, model TEXT, tokens_in INTEGER, tokens_out INTEGER,
    latency_s REAL, cost_usd REAL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    task_id TEXT PRIMARY KEY, level INTEGER NOT NULL, family TEXT NOT NULL, difficulty TEXT, passed INTEGER NOT NULL,
    error_modes TEXT NOT NULL, first_problem TEXT, quality_loss REAL, speedup REAL, latency_s REAL,
    achievement REAL, target_speedup REAL, target_latency_s REAL, images_dir TEXT, judge_seconds REAL,
    solve_seconds REAL, result TEXT NOT NULL, finished REAL NOT NULL
);
"""
IDENTITY = ("solver", "llm", "profile", "options")


class RunMismatchError(DiffbenchError):
    """The run folder holds a run of another solver, model, profile or agent setting."""


class RunStore:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / DB_FILE
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.db.row_factory = sqlite3.Row

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- identity ---------------------------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return {row["key"]: row["value"] for row in self.db.execute("SELECT key, value FROM meta")}

    def claim(self, identity: dict[str, str], extra: dict[str, str] | None = None) -> None:
        """Record what this run is, or refuse when the folder already holds a different run."""
        existing = self.meta()
        if existing:
            differs = [k for k in IDENTITY if existing.get(k, "") != identity.get(k, "")]
            if differs:
                was = ", ".join(f"{k}={existing.get(k) or '-'}" for k in differs)
                now = ", ".join(f"{k}={identity.get(k) or '-'}" for k in differs)
                raise RunMismatchError(
                    f"run folder {self.path.parent} holds a run with {was}; this command asks {now}. "
                    "Use another --run-dir, or the same settings to resume it."
                )
            return
        with self.db:
            for key, value in {**identity, **(extra or {}), "created": str(time.time())}.items():
                self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # ---- writes -----------------------------------------------------------------------------------------------
    def save_solution(
        self, task_id: str, code: str | None, usage: dict[str, Any], history: dict[str, Any], seconds: float
    ) -> None:
        candidates = history.get("candidates", [])
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO solutions VALUES (?, ?, ?, ?, ?, ?)",
                (task_id, code, json.dumps(usage), json.dumps(history, default=str), seconds, time.time()),
            )
            self.db.execute("DELETE FROM candidates WHERE task_id = ?", (task_id,))
            for i, c in enumerate(candidates):
                self.db.execute(
                    "INSERT INTO candidates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (task_id, i, c.get("generation"), c.get("describe"), c.get("loss"), c.get("speedup"),
                     c.get("latency_s"), c.get("fitness"), c.get("error"), json.dumps(c, default=str)),
                )  # fmt: skip

    def save_exchange(self, task_id: str, entry: dict[str, Any]) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO exchanges (task_id, model, tokens_in, tokens_out, latency_s, cost_usd, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (task_id, entry.get("model"), entry.get("tokens_in"), entry.get("tokens_out"),
                 entry.get("latency_s"), entry.get("cost_usd"), json.dumps(entry)),
            )  # fmt: skip

    def save_result(self, result: EvalResult, task: Any, solve_seconds: float) -> None:
        target = task.targets.get(result.profile) if task.level >= 4 else None
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (result.task_id, task.level, task.family, task.difficulty and str(task.difficulty),
                 int(result.passed), json.dumps([str(m) for m in result.error_modes]), result.first_problem,
                 result.quality_loss, result.speedup, result.latency_s, result.achievement,
                 target.speedup if target else None, target.latency_s if target else None, result.images_dir,
                 result.seconds, solve_seconds, result.model_dump_json(), time.time()),
            )  # fmt: skip

    # ---- reads ------------------------------------------------------------------------------------------------
    def done(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT task_id FROM results")}

    def solution(self, task_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM solutions WHERE task_id = ?", (task_id,)).fetchone()

    def results(self) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM results ORDER BY task_id"))

    def candidates(self, task_id: str) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM candidates WHERE task_id = ? ORDER BY idx", (task_id,)))

    def usage(self) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(tokens_in), 0), COALESCE(SUM(tokens_out), 0), SUM(cost_usd) FROM exchanges"
        ).fetchone()
        return {"calls": row[0], "tokens_in": row[1], "tokens_out": row[2], "cost_usd": row[3]}


def open_existing(folder: Path) -> RunStore:
    if not (folder / DB_FILE).is_file():
        raise DiffbenchError(f"{folder} holds no run ({DB_FILE} is missing); make one with `diffbench run`")
    return RunStore(folder)
