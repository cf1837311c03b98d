"""Reading a request's goal without a language model: the speed target (a speedup or a latency), the quality
bound, whether to measure without a target, and the call's strength and guidance scale (agent/request.py reads
the rest: checkpoint, conditioning, samplers, methods). Each reading keeps the spans of the words it came from,
so that the accounting (request_accounting.py) can list what nothing read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from diffagent.agent.request_accounting import Span, covered

_NUMBER = r"(\d+(?:\.\d+)?)"
_QUALITY = r"(?:quality|clip|fidelity|psnr|degradation|drop|loss)"
_SECONDS = r"(ms|s|sec|secs|seconds?)\b"
_LATENCY_WORDS = r"(?:time|latency|runtime|inference time|generation time|wall time|duration)"


@dataclass
class GoalReading:
    speedup: float | None = None
    latency_s: float | None = None
    delta: float | None = None  # None: no quality bound stated
    words: str = ""  # the words the speed goal was read from
    current_s: float | None = None  # a latency stated as today's ("takes 4 s", "from 4 s to 2 s")
    faster: bool = False  # "faster", "speed it up" with no figure: the default target, said as assumed
    measure: bool = False  # "tell me the speedup": measure it even with no target
    spans: list[Span] = field(default_factory=list)


def _seconds(value: str, unit: str) -> float:
    return float(value) / (1000 if unit == "ms" else 1)


_SPEEDUPS: list[tuple[str, Any]] = [
    (rf"{_NUMBER}\s*(?:x|×|times?)(?![\w\d]|\s*\d{{3}})", lambda m: float(m.group(1))),
    (rf"speed(?:s)? (?:\w+ )?up by {_NUMBER}\s*%", lambda m: 1 + float(m.group(1)) / 100),
    (rf"factor of {_NUMBER}", lambda m: float(m.group(1))),
    (r"twice as fast|double the speed|halve (?:the )?(?:time|latency|runtime)|half (?:the )?(?:time|latency)|in half",
     lambda m: 2.0),
    (rf"(?:down to|to about|to|under|below|within|at most|less than|no more than|at|need|want|target|reach)\s+"
     rf"{_NUMBER}\s*%\s*of\s+"
     rf"(?:the |today's |its |our |my |what it takes )?(?:current |present |baseline |original |existing )?"
     rf"(?:{_LATENCY_WORDS}|baseline)",
     lambda m: 100 / float(m.group(1))),
    (rf"(?:cut|reduce|lower|shave|bring down|trim)\w* (?:the )?(?:{_LATENCY_WORDS})?\s*(?:by )?{_NUMBER}\s*%",
     lambda m: 1 / (1 - float(m.group(1)) / 100)),
    (rf"(?:cut|reduce|lower|shave|trim)\w* (?:[\w.-]+ ){{0,4}}?(?:{_LATENCY_WORDS}) by {_NUMBER}\s*%",
     lambda m: 1 / (1 - float(m.group(1)) / 100)),
    (rf"(?:{_LATENCY_WORDS})\s+{_NUMBER}\s*%\s*(?:lower|shorter|less|faster)",
     lambda m: 1 / (1 - float(m.group(1)) / 100)),
    (rf"{_NUMBER}\s*%\s*(?:lower|shorter|less) (?:{_LATENCY_WORDS})", lambda m: 1 / (1 - float(m.group(1)) / 100)),
    (rf"{_NUMBER}\s*%\s*(?:faster|quicker|speed-?up)", lambda m: 1 + float(m.group(1)) / 100),
]  # fmt: skip
_CURRENT = (
    r"(?:takes?|took|taking|currently|today|right now|at the moment|now at|(?:baseline|it) (?:is|runs?|needs?|at))"
)
# "from 4 s to 2 s", "4 s -> 2 s", "4 s down to 2 s": today's latency, then the target.
_FROM_TO = re.compile(rf"(?:from\s+)?{_NUMBER}\s*{_SECONDS}\s*(?:to|->|→|down to|into)\s*{_NUMBER}\s*{_SECONDS}")
_FASTER = re.compile(
    r"\b(?:faster|quicker|speed(?:s)? (?:\w+ )?up|speed-?up|accelerat\w*|lower (?:the )?latency|"
    r"reduce (?:the )?latency|cut (?:the )?latency|optimi[sz]e (?:the )?(?:speed|latency))\b"
)
MEASURE = re.compile(
    r"how much (?:faster|quicker|speed|time)|report (?:back )?(?:the |its )?(?:speed-?up|speed|latency|gain)|"
    r"measure (?:the )?(?:speed|latency|gain)|what(?:'s| is)? (?:the )?speed-?up|benchmark it|how fast|"
    r"(?:tell|show) me (?:the |its |what )?(?:speed-?up|gain|latency|difference)|"
    r"(?:show|give me|print) (?:the |its )?(?:speed-?up|gain)"
)


def goal(low: str) -> GoalReading:
    """The speed goal, the quality bound and whether to measure, with the spans they were read from."""
    out = GoalReading()
    for measure in MEASURE.finditer(low):
        out.measure = True
        out.spans.append(measure.span())
    speed_span = (-1, -1)
    for pattern, value in _SPEEDUPS:
        if m := re.search(pattern, low):
            out.speedup, out.words, speed_span = round(value(m), 4), m.group(0), m.span()
            out.spans.append(m.span())
            break
    if m := _FROM_TO.search(low):
        out.current_s, out.latency_s = _seconds(m.group(1), m.group(2)), _seconds(m.group(3), m.group(4))
        out.words = out.words or m.group(0)
        out.spans.append(m.span())
    for latency in re.finditer(rf"{_NUMBER}\s*{_SECONDS}(?!\s*(?:per step|/step))", low):
        if covered(latency.start(), out.spans):
            continue
        if re.search(rf"{_CURRENT}\s*(?:about |around |roughly |~)?$", low[: latency.start()]):
            out.current_s = _seconds(latency.group(1), latency.group(2))  # what it takes today, not the target
            out.spans.append(latency.span())
            continue
        if out.latency_s is None:
            out.latency_s = _seconds(latency.group(1), latency.group(2))
            out.words = out.words or latency.group(0)
            out.spans.append(latency.span())
    # A percentage that set the speed goal ("cut latency by 40%") is not also the quality bound.
    for bound in re.finditer(rf"{_NUMBER}\s*%[^.;%]*?{_QUALITY}|{_QUALITY}[^.;%]*?{_NUMBER}\s*%", low):
        number = 1 if bound.group(1) else 2
        if not speed_span[0] <= bound.start(number) < speed_span[1]:
            out.delta = float(bound.group(number)) / 100
            out.spans.append(bound.span(number))
            break
    if out.delta is None and (lossless := _LOSSLESS.search(low)):
        out.delta = 0.0
        out.spans.append(lossless.span())
    if out.speedup is None and out.latency_s is None:
        asked = [m for m in _FASTER.finditer(low) if not covered(m.start(), out.spans)]
        out.faster = bool(asked)
    return out


_LOSSLESS = re.compile(
    r"lossless|zero (?:quality )?(?:loss|drop)|no quality (?:loss|drop)|identical (?:images|output)|"
    r"(?:images|output|outputs) identical|bit-exact"
)


def strength(low: str) -> tuple[float | None, Span | None]:
    m = re.search(r"strength\s*(?:of|=|:|at)?\s*(0?\.\d+|1(?:\.0+)?|0)\b", low)
    return (float(m.group(1)), m.span()) if m else (None, None)


def guidance(low: str) -> tuple[float | None, Span | None]:
    m = re.search(r"(?:guidance(?:[ _]scale)?|cfg(?:[ _]scale)?)\s*(?:of|=|:|at)?\s*(\d+(?:\.\d+)?)", low)
    return (float(m.group(1)), m.span()) if m else (None, None)
