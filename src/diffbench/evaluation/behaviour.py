"""The rules every candidate call keeps, read from the worker's answer: no work left running after the call, and
every method found on the pipeline changed the call's computation; and the rules every command keeps, load and
warm-ups included, whatever confines the child: no attempt on the sandbox, no fork refused by the process limit, no
process left outside the worker's session. One place for the judge, calibration and the agent's measurements, so a
module one of them rejects the others reject too (docs/evaluation.md)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


def _inert(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The methods found on the pipeline whose effect rule says they did not change this call's computation."""
    effects = answer.get("observed", {}).get("effects", {})
    return {key: effect for key, effect in effects.items() if effect["took_effect"] is False}


def behaviour_problem(answer: dict[str, Any], asked: Collection[str] = ()) -> str | None:
    """The first rule a generate() answer breaks, in words that name the rule; None when it breaks none.

    Effect rules hold in full for the methods `asked` (the task's, or the user's): such a method must change the
    computation. A method nobody asked for that did nothing is a warning (`behaviour_warnings`), not a failure:
    published code carries harmless extras (the paper's Figure 5 fuses QKV projections under T-GATE, whose
    processors use the separate ones). One that does change the computation is judged by quality and speed."""
    if answer.get("side_work"):
        busy = ", ".join(f"{w['what']} used {w['cpu_s']:.2f} s of CPU" for w in answer["side_work"])
        return f"rule no-side-work: work kept running after generate() returned ({busy})"
    for key, effect in _inert(answer).items():
        if key in asked:
            return (
                f"rule {effect['rule']}: {key} is on the pipeline but did not change this call's computation: "
                f"{effect['evidence']}"
            )
    return None


def behaviour_warnings(answer: dict[str, Any], asked: Collection[str] = ()) -> dict[str, str]:
    """Method key -> one line, for each method nobody asked for that is on the pipeline and did nothing in this
    call; it costs nothing."""
    return {
        key: f"warning {effect['rule']}: {key} is on the pipeline but did not change this call's computation (not "
        f"asked for, so it costs nothing): {effect['evidence']}"
        for key, effect in _inert(answer).items()
        if key not in asked
    }


def containment_problem(answer: dict[str, Any]) -> str | None:
    """The first containment rule an answer (load or generate) breaks: a hostile act is a failure, not only
    contained. `attempts` is the worker's audit record (attempts.py); `harness` is what the harness saw itself
    (sandbox/session.py), which the child cannot write."""
    if attempts := answer.get("attempts"):
        return f"rule sandbox-attempt: the solution tried to {'; '.join(attempts[:3])}, which its sandbox forbids"
    harness = answer.get("harness", {})
    if harness.get("process_limit_hit"):
        return (
            f"rule process-limit: the solution tried to run more than {harness.get('process_limit')} processes and "
            "threads at once (the sandbox refused a fork)"
        )
    if detached := harness.get("detached_processes"):
        return (
            f"rule detached-process: the solution left {', '.join(detached[:3])} running outside the worker's "
            "session (setsid or re-parented), beyond the call"
        )
    return None
