"""How long a candidate may take: limits that scale with its baseline's measured times (part of the measurement
protocol, evaluation/measure.py), so a hang costs a multiple of the work, not a flat quarter of an hour."""

from __future__ import annotations

from dataclasses import dataclass

# A multiple of the baseline's time, with a floor; the flat limits apply where no baseline time is measured.
LOAD_MULTIPLE, LOAD_FLOOR_S = 10.0, 120.0
CALL_MULTIPLE, CALL_FLOOR_S = 20.0, 30.0
DEFAULT_LOAD_S, DEFAULT_CALL_S = 900.0, 300.0


@dataclass(frozen=True)
class TimeLimits:
    """Seconds a candidate's load_pipeline, first generate and later generate calls may take."""

    load_s: float = DEFAULT_LOAD_S
    first_call_s: float = DEFAULT_LOAD_S
    call_s: float = DEFAULT_CALL_S
    rule: str = f"flat: {DEFAULT_LOAD_S:.0f} s to load, {DEFAULT_CALL_S:.0f} s per call (no baseline time measured)"

    @classmethod
    def from_baseline(cls, load_s: float, call_s: float, call_override_s: float | None = None) -> TimeLimits:
        load = max(LOAD_FLOOR_S, LOAD_MULTIPLE * load_s)
        call = max(CALL_FLOOR_S, CALL_MULTIPLE * call_s)
        rule = (
            f"from the baseline's {load_s:.2f} s load and {call_s:.2f} s call: {LOAD_MULTIPLE:.0f}x its load "
            f"(at least {LOAD_FLOOR_S:.0f} s) to load and for the first call, {CALL_MULTIPLE:.0f}x its call "
            f"(at least {CALL_FLOOR_S:.0f} s) for every later call"
        )
        if call_override_s is not None:
            call = call_override_s
            rule += f"; later calls overridden to {call_override_s:.0f} s (--timeout)"
        return cls(load, max(load, call), call, rule)

    @classmethod
    def flat(cls, load_s: float = DEFAULT_LOAD_S, call_s: float = DEFAULT_CALL_S) -> TimeLimits:
        return cls(load_s, max(load_s, call_s), call_s, f"flat: {load_s:.0f} s to load, {call_s:.0f} s per call")

    def describe(self) -> dict[str, float | str]:
        return {"load_s": round(self.load_s, 1), "first_call_s": round(self.first_call_s, 1),
                "call_s": round(self.call_s, 1), "rule": self.rule}  # fmt: skip
