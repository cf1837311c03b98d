"""Parent side of `diffbench methods check`: every declared (method, family) pair in its own sandboxed child."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from diffbench.evaluation.sandbox import run_module
from diffbench.knowledge.loader import KnowledgeBase
from diffbench.models.families import FAMILIES
from diffbench.models.profiles import Profile

PAIR_TIMEOUT_S = 900.0


class PairResult(BaseModel):
    method: str
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
    seconds: float
    error: str | None = None


def declared_pairs(kb: KnowledgeBase, family: str | None = None) -> list[tuple[str, str]]:
    return [(m.key, f) for m in kb for f in m.families if family is None or f == family]


def check_methods(
    kb: KnowledgeBase,
    profile: Profile,
    pairs: list[tuple[str, str]],
    steps: int = 50,
    reps: int = 3,
    on_result: Callable[[PairResult], None] | None = None,
) -> list[PairResult]:
    results = []
    with tempfile.TemporaryDirectory(prefix="diffbench-methods-") as tmp:
        for n, (method, family) in enumerate(pairs):
            outcome = run_module(
                "diffbench.knowledge.check_worker",
                [method, family, "--profile", profile.name, "--steps", str(steps), "--reps", str(reps)],
                workdir=Path(tmp) / f"{n:03d}-{method}-{family}",
                env=profile.env(),
                timeout_s=PAIR_TIMEOUT_S,
            )
            raw = outcome.result
            if raw is None:
                why = "timed out" if outcome.timed_out else f"child died: {outcome.last_error_line}"
                raw = {"ok": False, "error": why}
            result = PairResult(
                method=method,
                family=family,
                model_id=FAMILIES[family].default.id,
                profile=profile.name,
                seconds=outcome.seconds,
                **raw,
            )
            results.append(result)
            if on_result:
                on_result(result)
    return results
