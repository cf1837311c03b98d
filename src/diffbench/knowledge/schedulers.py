"""Every diffusers scheduler by the names people use for it, as a class plus `from_config` overrides.

A user's pipeline runs whatever scheduler they chose ("Euler a", "DPM++ 2M Karras", the checkpoint's own); a
baseline must be that pipeline, whether or not the knowledge base lists the scheduler as an acceleration move.
`SchedulerSpec` is one such choice; `class_name=None` is the checkpoint's own scheduler, as loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# (usual names, lower case) -> (diffusers class, from_config overrides). Longest names are matched first.
_NAMES: dict[str, tuple[str, dict[str, Any]]] = {}


def _add(names: list[str], class_name: str, **config: Any) -> None:
    for name in names:
        _NAMES[name] = (class_name, config)


_add(["euler ancestral", "euler a", "euler-a", "euler_a", "eulerancestraldiscretescheduler", "euler-ancestral"],
     "EulerAncestralDiscreteScheduler")  # fmt: skip
_add(["euler", "eulerdiscretescheduler", "euler discrete"], "EulerDiscreteScheduler")
_add(["flow-match euler", "flow match euler", "flowmatch euler", "flowmatcheulerdiscretescheduler", "flow-match",
      "flow-matching euler", "flow matching euler"], "FlowMatchEulerDiscreteScheduler")  # fmt: skip
_add(["dpm++ 2m karras", "dpm++ 2m (karras)", "dpmpp 2m karras", "dpm++ karras"], "DPMSolverMultistepScheduler",
     algorithm_type="dpmsolver++", use_karras_sigmas=True)  # fmt: skip
_add(["dpm++ 2m", "dpmpp 2m", "dpmpp_2m"], "DPMSolverMultistepScheduler", algorithm_type="dpmsolver++")
_add(["dpm++ sde karras", "dpm++ 2m sde karras"], "DPMSolverMultistepScheduler", algorithm_type="sde-dpmsolver++",
     use_karras_sigmas=True)  # fmt: skip
_add(["dpm++ sde", "dpm++ 2m sde"], "DPMSolverMultistepScheduler", algorithm_type="sde-dpmsolver++")
_add(["dpm-solver++", "dpm-solver", "dpmsolver", "dpm solver", "dpmsolvermultistepscheduler", "dpm++", "dpmpp",
      "dpm-solver multistep"], "DPMSolverMultistepScheduler", algorithm_type="dpmsolver++")  # fmt: skip
_add(["unipc", "uni-pc", "unipcmultistepscheduler"], "UniPCMultistepScheduler")
_add(["ddim", "ddimscheduler"], "DDIMScheduler")
_add(["ddpm", "ddpmscheduler"], "DDPMScheduler")
_add(["pndm", "plms", "pndmscheduler"], "PNDMScheduler")
_add(["heun", "heundiscretescheduler"], "HeunDiscreteScheduler")
_add(["lms", "lmsdiscretescheduler", "k-lms", "k_lms"], "LMSDiscreteScheduler")
_add(["deis", "deismultistepscheduler"], "DEISMultistepScheduler")
_add(["kdpm2", "dpm2", "kdpm2discretescheduler"], "KDPM2DiscreteScheduler")
_add(["kdpm2 a", "dpm2 a", "kdpm2ancestraldiscretescheduler"], "KDPM2AncestralDiscreteScheduler")
_add(["lcm", "lcmscheduler"], "LCMScheduler")
_add(["tcd", "tcdscheduler"], "TCDScheduler")


@dataclass(frozen=True)
class SchedulerSpec:
    """A scheduler as a pipeline runs it: a diffusers class and overrides; None: the checkpoint's own."""

    class_name: str | None = None
    config: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, class_name: str | None, **config: Any) -> SchedulerSpec:
        return cls(class_name, tuple(sorted(config.items())))

    def describe(self, own: str | None = None) -> str:
        """'DPMSolverMultistepScheduler (use_karras_sigmas=True)', or 'the checkpoint's own EulerDiscreteScheduler'."""
        if self.class_name is None:
            return f"the checkpoint's own {own or 'scheduler'}"
        extra = ", ".join(f"{k}={v!r}" for k, v in self.config)
        return f"{self.class_name} ({extra})" if extra else self.class_name

    def code(self) -> tuple[list[str], list[str]]:
        """(import lines, statements after load) that install this scheduler on `pipe`; nothing for the own one."""
        if self.class_name is None:
            return [], []
        extra = "".join(f", {k}={v!r}" for k, v in self.config)
        return (
            [f"from diffusers import {self.class_name}"],
            [f"pipe.scheduler = {self.class_name}.from_config(pipe.scheduler.config{extra})"],
        )

    def to_json(self) -> dict[str, Any]:
        return {"class_name": self.class_name, "config": dict(self.config)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> SchedulerSpec | None:
        return None if data is None else cls.of(data.get("class_name"), **data.get("config", {}))


def scheduler_names() -> list[tuple[str, str, dict[str, Any]]]:
    """(name, class, overrides), longest name first."""
    return sorted(((n, c, cfg) for n, (c, cfg) in _NAMES.items()), key=lambda t: -len(t[0]))


def find_schedulers(text: str) -> list[tuple[int, int, SchedulerSpec]]:
    """Every scheduler named in `text` as (start, end, spec), left to right, overlaps resolved longest first."""
    low = text.lower()
    found: list[tuple[int, int, SchedulerSpec]] = []
    for name, class_name, config in scheduler_names():
        for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w+])", low):
            if not any(s < m.end() and m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(), SchedulerSpec.of(class_name, **config)))
    return sorted(found, key=lambda f: f[0])
