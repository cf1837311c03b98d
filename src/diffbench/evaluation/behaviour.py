"""The rules every candidate call keeps, read from the worker's answer: no work left running after the call, and
every method found on the pipeline changed the call's computation. One place for the judge, calibration and the
agent's measurements, so a module one of them rejects the others reject too (docs/evaluation.md)."""

from __future__ import annotations

from typing import Any


def behaviour_problem(answer: dict[str, Any]) -> str | None:
    """The first rule a generate() answer breaks, in words that name the rule; None when it breaks none."""
    if answer.get("side_work"):
        busy = ", ".join(f"{w['what']} used {w['cpu_s']:.2f} s of CPU" for w in answer["side_work"])
        return f"rule no-side-work: work kept running after generate() returned ({busy})"
    for key, effect in answer.get("observed", {}).get("effects", {}).items():
        if effect["took_effect"] is False:
            return (
                f"rule {effect['rule']}: {key} is on the pipeline but did not change this call's computation: "
                f"{effect['evidence']}"
            )
    return None
