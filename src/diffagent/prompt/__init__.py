"""The agent's prompts, one Jinja template per role in `templates/` (never code strings)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).parent / "templates"
ROLES = ("direct", "planner_initial", "planner_refine", "coder", "debugger", "reader")


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(role: str, **values: Any) -> str:
    """The prompt for `role`; a value the template needs and was not given raises (StrictUndefined)."""
    if role not in ROLES:
        raise ValueError(f"unknown prompt role {role!r}; one of {', '.join(ROLES)}")
    return _env().get_template(f"{role}.j2").render(**values)
