"""How tasks are worded: the hand-written phrasings (tasks/phrasing/*.yaml) the generator draws prompts from and
the offline request reader reads back (diffagent/agent/request*.py)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

PHRASING_DIR = Path(__file__).parent / "phrasing"
# cache-dit's TaylorSeer switch, as a task prompt states it (the offline reader reads it back: agent/request.py).
TAYLORSEER_PHRASES = {True: " and TaylorSeer forecasting (order 1)", False: ", without TaylorSeer"}


@cache
def phrasing() -> dict[str, Any]:
    parts = yaml.safe_load((PHRASING_DIR / "parts.yaml").read_text())
    parts["requests"] = {int(k): v for k, v in yaml.safe_load((PHRASING_DIR / "requests.yaml").read_text()).items()}
    return parts
