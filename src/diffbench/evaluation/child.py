"""One solution module in its own confined child: load it once, then one generate() per input.

Shared by the judge and the calibration search. Every failure comes back as `SolutionError` with a message that
says what went wrong, never as a hang or an exception from inside the child.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diffbench.errors import DiffbenchError
from diffbench.evaluation.behaviour import containment_problem
from diffbench.evaluation.inputs import EvalInput
from diffbench.evaluation.limits import TimeLimits
from diffbench.models.profiles import Profile
from diffbench.sandbox.confinement import Limits
from diffbench.sandbox.session import SessionError, WorkerSession


class SolutionError(DiffbenchError):
    """The solution crashed, raised, hit a limit, or lied about its timing."""

    def __init__(self, message: str, traceback: str | None = None, timed_out: bool = False) -> None:
        super().__init__(message)
        self.traceback = traceback  # the child's traceback when the solution raised (for a debugger to read)
        self.timed_out = timed_out  # the call missed its deadline (time_limits), rather than raising or breaking


class SolutionChild:
    def __init__(
        self,
        workdir: Path,
        profile: Profile,
        limits: Limits | None = None,
        hidden: tuple[Path, ...] = (),
        time_limits: TimeLimits | None = None,
    ) -> None:
        self.session = WorkerSession(workdir, profile.env(), limits or Limits(), hidden=hidden)
        self.device = profile.device
        self.time_limits = time_limits or TimeLimits()
        self.calls = 0
        self.warmup_s: float | None = None  # the first call's wall seconds: compile time, where the module compiles

    @property
    def workdir(self) -> Path:
        return self.session.workdir

    def __enter__(self) -> SolutionChild:
        self.session.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()

    def _limit_note(self, err: SessionError, limit_s: float) -> str:
        return f" (limit {limit_s:.0f} s; {self.time_limits.rule})" if err.kind == "timeout" else ""

    def _what(self, warm_up: bool) -> str:
        return "generate (the first call, the warm-up)" if warm_up else "generate"

    def load(self, source: str, filename: str = "solution.py") -> dict[str, Any]:
        """Write the module into the child's folder and run its load_pipeline(); the worker's answer."""
        path = self.workdir / filename
        path.write_text(source)
        try:
            answer, _ = self.session.call(
                {"op": "load", "module": str(path), "device": self.device}, self.time_limits.load_s
            )
        except SessionError as err:
            note = self._limit_note(err, self.time_limits.load_s)
            raise SolutionError(f"load_pipeline: {err}{note}", timed_out=err.kind == "timeout") from None
        if (problem := containment_problem(answer)) is not None:
            raise SolutionError(f"load_pipeline: {problem}")
        if not answer.get("ok"):
            raise SolutionError(f"load_pipeline raised {answer.get('error')}", answer.get("traceback"))
        return answer

    def generate(self, inp: EvalInput, name: str) -> tuple[dict[str, Any], float]:
        """One timed generate() call: the worker's answer and the seconds the parent waited for it.

        The child's own timer was captured before the solution was imported; a report that disagrees with the
        parent's wall clock (faster than half of it, or longer than it) means the solution tampered with time."""
        image = inp.write_image(self.workdir, f"{name}-input")
        warm_up = self.calls == 0  # the warm-up: compilation happens here, under its own deadline (limits.py)
        limit = self.time_limits.first_call_s if warm_up else self.time_limits.call_s
        self.calls += 1
        try:
            answer, waited = self.session.call(
                {"op": "generate", "request": inp.request(image), "save_as": name}, limit
            )
        except SessionError as err:
            note = self._limit_note(err, limit)
            raise SolutionError(f"{self._what(warm_up)}: {err}{note}", timed_out=err.kind == "timeout") from None
        if warm_up:
            self.warmup_s = waited
        if (problem := containment_problem(answer)) is not None:
            raise SolutionError(f"generate: {problem}")
        if not answer.get("ok"):
            raise SolutionError(f"generate raised {answer.get('error')}", answer.get("traceback"))
        if answer["seconds"] > waited + 0.01 or answer["seconds"] < 0.5 * waited - 0.25:
            raise SolutionError(
                f"rule wall-clock: the child reported {answer['seconds']:.3f} s for a call the harness "
                f"waited {waited:.3f} s for"
            )
        return answer, waited
