"""Parent side of `diffbench methods check`: each family's declared methods in one sandboxed child, a pair
whose child died re-run alone, and the figures recorded as the knowledge base's measured insights."""

from __future__ import annotations

import datetime
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from diffbench.knowledge.loader import MEASURED_DIR, KnowledgeBase
from diffbench.models.device import describe_hardware
from diffbench.models.families import FAMILIES
from diffbench.models.profiles import Profile
from diffbench.sandbox.oneshot import run_module

PAIR_TIMEOUT_S = 600.0  # per variant in a family's child


class PairResult(BaseModel):
    method: str
    variant: str = Field(description="the method at its defaults ('deepcache') or with one parameter changed")
    params: dict = Field(default_factory=dict, description="the resolved parameters it ran with")
    family: str
    model_id: str
    profile: str
    ok: bool
    steps: int | None = None
    method_steps: int | None = None
    baseline_s: float | None = None
    method_s: float | None = None
    speedup: float | None = None
    psnr_db: float | None = None
    ssim: float | None = None
    detected: dict | None = None
    child_s: float = Field(description="wall time of the child that measured it (shared by a family's pairs)")
    error: str | None = None


def declared_pairs(kb: KnowledgeBase, family: str | None = None, device: str | None = None) -> list[tuple[str, str]]:
    """(method, family) pairs the knowledge base declares; with `device`, only methods that run there."""
    return [
        (m.key, f)
        for m in kb
        for f in m.families
        if (family is None or f == family) and (device is None or device in m.devices)
    ]


def variants_for(kb: KnowledgeBase, method: str, family: str, sweep: bool) -> list[dict]:
    """The method at its defaults; with `sweep`, also each parameter at both ends of its sensible range."""
    variants = [{"label": method, "method": method, "params": {}}]
    if sweep:
        m = kb.method(method)
        for p in m.parameters:
            for value in p.sensible.get(family, ()):
                # sensible ranges are stored as floats; give ints (and int choices) back their type
                value = type(p.default)(value) if p.type in ("int", "choice") else value
                if value != p.default:
                    variants.append(
                        {"label": f"{method}[{p.name}={value}]", "method": method, "params": {p.name: value}}
                    )
    return variants


def _run_family(
    profile: Profile, family: str, variants: list[dict], steps: int, reps: int, workdir: Path
) -> list[PairResult]:
    outcome = run_module(
        "diffbench.knowledge.check_worker",
        [
            family,
            "--variants",
            json.dumps(variants),
            "--profile",
            profile.name,
            "--device",
            profile.device,
            "--steps",
            str(steps),
            "--reps",
            str(reps),
        ],
        workdir=workdir,
        env=profile.env(),
        timeout_s=PAIR_TIMEOUT_S * len(variants),
    )
    why = "timed out" if outcome.timed_out else f"child died: {outcome.last_error_line}"
    rows = {r["variant"]: r for r in outcome.result or []}
    results = []
    for v in variants:
        raw = rows.get(v["label"], {"method": v["method"], "variant": v["label"], "ok": False, "error": why})
        raw.setdefault("params", v["params"])
        results.append(
            PairResult(
                family=family,
                model_id=FAMILIES[family].default.id,
                profile=profile.name,
                child_s=outcome.seconds,
                **raw,
            )
        )
    return results


def check_methods(
    kb: KnowledgeBase,
    profile: Profile,
    pairs: list[tuple[str, str]],
    steps: int = 50,
    reps: int = 3,
    sweep: bool = False,
    on_result: Callable[[PairResult], None] | None = None,
) -> list[PairResult]:
    """One sandboxed child per family times all of its variants round-robin. If that child dies or hangs, each
    of its unfinished variants is re-run alone in a child of its own, so a crash costs only its own variant."""
    families: dict[str, list[dict]] = {}
    for method, family in pairs:
        families.setdefault(family, []).extend(variants_for(kb, method, family, sweep))
    results = []
    with tempfile.TemporaryDirectory(prefix="diffbench-methods-") as tmp:
        for family, variants in families.items():
            by_label = {v["label"]: v for v in variants}
            for row in _run_family(profile, family, variants, steps, reps, Path(tmp) / family):
                if row.error and row.error.startswith(("child died", "timed out")):
                    alone = Path(tmp) / f"{family}-{len(results)}"
                    (row,) = _run_family(profile, family, [by_label[row.variant]], steps, reps, alone)
                results.append(row)
                if on_result:
                    on_result(row)
    return results


def record_results(
    profile: Profile,
    results: list[PairResult],
    reps: int,
    wall_s: float,
    sweep: bool,
    family: str | None = None,
    methods: list[str] | None = None,
) -> Path:
    """Store the figures as the knowledge base's measured insights for `profile` (read by `kb.measured`).

    With `family` or `methods`, only the pairs of that family and those methods are replaced (in place) and the
    others kept; the record lists each run with its command and hardware."""
    MEASURED_DIR.mkdir(exist_ok=True)
    path = MEASURED_DIR / f"{profile.name}.json"
    command = (
        f"diffbench methods check --profile {profile.name} --reps {reps}"
        + (f" --family {family}" if family else "")
        + "".join(f" -m {m}" for m in methods or [])
        + (" --sweep" if sweep else "")
        + " --record"
    )
    today = datetime.date.today().isoformat()
    pairs = [r.model_dump(exclude={"profile"}) for r in results]
    run = {"date": today, "command": command, "wall_s": round(wall_s, 1), "hardware": describe_hardware(profile.device)}
    runs = [run]
    if (family or methods) and path.is_file():
        old = json.loads(path.read_text())
        runs = old.get("runs") or [{k: old[k] for k in ("date", "command", "wall_s") if k in old}]
        runs.append(run)
        pairs = _merged(old["pairs"], pairs, family, methods)
    data = {
        "profile": profile.name,
        "date": today,
        "command": command,
        "reps": reps,
        "wall_s": round(wall_s, 1),
        "runs": runs,
        "pairs": pairs,
    }
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def _merged(
    old: list[dict[str, Any]], new: list[dict[str, Any]], family: str | None, methods: list[str] | None
) -> list[dict[str, Any]]:
    """The old pairs with those of the run's family and methods replaced by the new ones, where the old ones
    stood (a new (method, family) goes at the end)."""

    def replaced(p: dict[str, Any]) -> bool:
        return (family is None or p["family"] == family) and (methods is None or p["method"] in methods)

    fresh: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for p in new:
        fresh.setdefault((p["method"], p["family"]), []).append(p)
    out: list[dict[str, Any]] = []
    for p in old:
        if not replaced(p):
            out.append(p)
        elif (key := (p["method"], p["family"])) in fresh:
            out += fresh.pop(key)
    return out + [p for rows in fresh.values() for p in rows]
