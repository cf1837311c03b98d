"""`diffbench models build`: build every stand-in that is missing or whose recipe changed."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from diffbench.errors import DiffbenchError
from diffbench.models.profiles import Profile
from diffbench.models.standins.recipes import RECIPES, recipe


@dataclass(frozen=True)
class BuildOutcome:
    model_id: str
    status: Literal["built", "current"]
    seconds: float
    size_mib: float
    revision: str


def folder_size_mib(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def build_standins(profile: Profile, force: bool = False, ids: Iterable[str] | None = None) -> list[BuildOutcome]:
    if not profile.builds_standins:
        raise DiffbenchError(
            f"profile {profile.name!r} uses real weights from {profile.hub_cache}; it has no stand-ins to build"
        )
    store = profile.store
    outcomes = []
    for model_id in ids if ids is not None else RECIPES:
        r = recipe(model_id)
        start = time.perf_counter()
        if force or not store.has(model_id, r.revision):
            folder = store.write(model_id, r.revision, lambda folder, r=r: r.build(folder, r.params))
            status: Literal["built", "current"] = "built"
        else:
            folder = store.snapshot_dir(model_id)
            status = "current"
        assert folder is not None
        outcomes.append(
            BuildOutcome(model_id, status, time.perf_counter() - start, folder_size_mib(folder), r.revision)
        )
    return outcomes
