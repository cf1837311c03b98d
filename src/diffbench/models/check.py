"""Parent side of `diffbench models check`: every id in a fresh, network-less process; one row per run."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from diffbench.models.families import all_model_ids
from diffbench.models.profiles import Profile
from diffbench.sandbox.oneshot import run_module

CHECK_TIMEOUT_S = 600.0


class CheckRow(BaseModel):
    id: str
    profile: str
    conditioning: str | None = None
    ok: bool
    load_s: float | None = None
    generate_s: float | None = None
    steps: int
    image_size: list[int] | None = None  # a video's frame size
    frames: int | None = None  # a video's frame count
    network_isolated: bool
    error: str | None = None


def check_models(
    profile: Profile,
    ids: Iterable[str] | None = None,
    steps: int = 50,
    on_row: Callable[[CheckRow], None] | None = None,
) -> list[CheckRow]:
    rows: list[CheckRow] = []
    with tempfile.TemporaryDirectory(prefix="diffbench-check-") as tmp:
        for n, model_id in enumerate(ids if ids is not None else all_model_ids()):
            outcome = run_module(
                "diffbench.models.check_worker",
                [model_id, "--profile", profile.name, "--device", profile.device, "--steps", str(steps)],
                workdir=Path(tmp) / f"{n:02d}",
                env=profile.env(),
                timeout_s=CHECK_TIMEOUT_S,
            )
            common = {"profile": profile.name, "steps": steps, "network_isolated": outcome.network_isolated}
            if outcome.result is None:
                why = "timed out" if outcome.timed_out else f"child died: {outcome.last_error_line}"
                results: list[dict[str, Any]] = [{"id": model_id, "ok": False, "error": why}]
            else:
                results = outcome.result
            for raw in results:
                row = CheckRow(**{k: v for k, v in raw.items() if k in CheckRow.model_fields}, **common)
                rows.append(row)
                if on_row:
                    on_row(row)
    return rows
