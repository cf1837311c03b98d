"""Reading a request's goal without a language model: the speed target (a speedup or a latency), the quality
bound, whether to measure without a target, and the call's strength and guidance scale (agent/request.py reads
the rest: checkpoint, conditioning, samplers, methods)."""

from __future__ import annotations

import re
from typing import Any

_NUMBER = r"(\d+(?:\.\d+)?)"

_QUALITY = r"(?:quality|clip|fidelity|psnr|degradation|drop|loss)"


def goal(low: str) -> tuple[float | None, float | None, float | None, str]:
    """(speedup, latency in s, quality bound or None when unstated, the words read)."""
    speed = None
    words = ""
    span = (-1, -1)
    patterns: list[tuple[str, Any]] = [
        (rf"{_NUMBER}\s*(?:x|×|times)(?![\w\d]|\s*\d)", lambda m: float(m.group(1))),
        (rf"factor of {_NUMBER}", lambda m: float(m.group(1))),
        (
            r"twice as fast|double the speed|halve (?:the )?(?:time|latency|runtime)|half the (?:time|latency)|"
            r"in half",
            lambda m: 2.0,
        ),
        (
            rf"(?:down to|to about|to) {_NUMBER}\s*%\s*of "
            r"(?:the |today's |current |its |our )?(?:time|latency|runtime)",
            lambda m: 100 / float(m.group(1)),
        ),
        (
            rf"(?:cut|reduce|lower|shave|bring down)\w* (?:the )?(?:latency|time|runtime|inference time)?\s*(?:by )?"
            rf"{_NUMBER}\s*%",
            lambda m: 1 / (1 - float(m.group(1)) / 100),
        ),
        (
            rf"(?:latency|time|runtime)\s+{_NUMBER}\s*%\s*(?:lower|shorter|less|faster)",
            lambda m: 1 / (1 - float(m.group(1)) / 100),
        ),
        (
            rf"{_NUMBER}\s*%\s*(?:lower|shorter|less) (?:latency|time|runtime)",
            lambda m: 1 / (1 - float(m.group(1)) / 100),
        ),
        (rf"{_NUMBER}\s*%\s*faster", lambda m: 1 + float(m.group(1)) / 100),
    ]
    for pattern, value in patterns:
        if m := re.search(pattern, low):
            speed, words, span = round(value(m), 4), m.group(0), m.span()
            break
    latency_s = None
    current = r"(?:takes?|took|currently|today|right now|at the moment|(?:baseline|it) (?:is|runs?|needs?|at))"
    for latency in re.finditer(rf"{_NUMBER}\s*(ms|s|sec|secs|seconds?)\b(?!\s*(?:per step|/step))", low):
        if re.search(rf"{current}\s*(?:about |around |roughly |~)?$", low[: latency.start()]):
            continue  # what it takes today, not the target
        latency_s = float(latency.group(1)) / (1000 if latency.group(2) == "ms" else 1)
        words = words or latency.group(0)
        break
    delta = None
    # A percentage that set the speed goal ("cut latency by 40%") is not also the quality bound.
    for bound in re.finditer(rf"{_NUMBER}\s*%[^.;%]*?{_QUALITY}|{_QUALITY}[^.;%]*?{_NUMBER}\s*%", low):
        number = 1 if bound.group(1) else 2
        if not span[0] <= bound.start(number) < span[1]:
            delta = float(bound.group(number)) / 100
            break
    if delta is None and _LOSSLESS.search(low):
        delta = 0.0
    return speed, latency_s, delta, words


_LOSSLESS = re.compile(
    r"lossless|zero (?:quality )?(?:loss|drop)|no quality (?:loss|drop)|identical (?:images|output)|"
    r"(?:images|output|outputs) identical|bit-exact"
)


def strength(low: str) -> float | None:
    m = re.search(r"strength\s*(?:of|=|:|at)?\s*(0?\.\d+|1(?:\.0+)?|0)\b", low)
    return float(m.group(1)) if m else None


def guidance(low: str) -> float | None:
    m = re.search(r"(?:guidance(?:[ _]scale)?|cfg(?:[ _]scale)?)\s*(?:of|=|:|at)?\s*(\d+(?:\.\d+)?)", low)
    return float(m.group(1)) if m else None


MEASURE = re.compile(r"how much (?:faster|quicker|speed)|report (?:the )?speed|measure (?:the )?(?:speed|latency)|"
                      r"what speedup|benchmark it|how fast")  # fmt: skip
