"""How long a candidate may take: limits that scale with its baseline's measured times (part of the measurement
protocol, evaluation/measure.py), so a hang costs a multiple of the work, not a flat quarter of an hour.

Two deadlines for calls, one rule for every client (the judge, calibration, the agent, its debugger): a child's
first generate() call is its warm-up, untimed, where `torch.compile` builds its graphs (minutes on a CPU, one to
several on a GPU; the diffusers benchmark code compiles a ControlNet pipeline's UNet and ControlNet with
mode="reduce-overhead", fullgraph=True), so it gets the compile budget: the larger of a fixed floor and a multiple of
the baseline's call, and never less than the load limit. Every later call gets a multiple of the baseline's call.
A hang in the warm-up is still caught, at the compile budget."""

from __future__ import annotations

from dataclasses import dataclass

# A multiple of the baseline's time, with a floor; the flat limits apply where no baseline time is measured.
LOAD_MULTIPLE, LOAD_FLOOR_S = 10.0, 120.0
CALL_MULTIPLE, CALL_FLOOR_S = 20.0, 30.0
WARMUP_MULTIPLE, WARMUP_FLOOR_S = 200.0, 600.0  # the first call: compile budget (10 min, or 200 calls)
DEFAULT_LOAD_S, DEFAULT_CALL_S = 900.0, 300.0


@dataclass(frozen=True)
class TimeLimits:
    """Seconds a candidate's load_pipeline, first generate (the warm-up, where compilation happens) and later
    generate calls may take."""

    load_s: float = DEFAULT_LOAD_S
    first_call_s: float = DEFAULT_LOAD_S
    call_s: float = DEFAULT_CALL_S
    rule: str = f"flat: {DEFAULT_LOAD_S:.0f} s to load, {DEFAULT_CALL_S:.0f} s per call (no baseline time measured)"

    @classmethod
    def from_baseline(cls, load_s: float, call_s: float, call_override_s: float | None = None) -> TimeLimits:
        load = max(LOAD_FLOOR_S, LOAD_MULTIPLE * load_s)
        call = max(CALL_FLOOR_S, CALL_MULTIPLE * call_s)
        warmup = max(WARMUP_FLOOR_S, WARMUP_MULTIPLE * call_s, load)
        rule = (
            f"from the baseline's {load_s:.2f} s load and {call_s:.2f} s call: {LOAD_MULTIPLE:.0f}x its load "
            f"(at least {LOAD_FLOOR_S:.0f} s) to load; the first call, the warm-up where compilation happens, "
            f"{WARMUP_MULTIPLE:.0f}x its call (at least {WARMUP_FLOOR_S:.0f} s, the load's limit and a later call's); "
            f"{CALL_MULTIPLE:.0f}x its call (at least {CALL_FLOOR_S:.0f} s) for every later call"
        )
        if call_override_s is not None:
            call = call_override_s
            rule += f"; later calls overridden to {call_override_s:.0f} s (--timeout)"
        return cls(load, max(warmup, call), call, rule)

    @classmethod
    def flat(cls, load_s: float = DEFAULT_LOAD_S, call_s: float = DEFAULT_CALL_S) -> TimeLimits:
        warmup = max(load_s, call_s, WARMUP_FLOOR_S)
        rule = f"flat: {load_s:.0f} s to load, {warmup:.0f} s for the first call (the warm-up), {call_s:.0f} s per call"
        return cls(load_s, warmup, call_s, rule)

    def describe(self) -> dict[str, float | str]:
        return {"load_s": round(self.load_s, 1), "first_call_s": round(self.first_call_s, 1),
                "call_s": round(self.call_s, 1), "rule": self.rule}  # fmt: skip
