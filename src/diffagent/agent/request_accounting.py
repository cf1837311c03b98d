"""Accounting for every number and model-like name of a request: each was read into the request (it lies in a
span the reader used), or it is listed as not understood. Nothing a user wrote is dropped without a word."""

from __future__ import annotations

import re

Span = tuple[int, int]

# A number with what is written onto it: "30", "0.6", "1216x832", "512px", "2.5x", "5%", "800ms".
_NUMBER = re.compile(
    r"(?<![\w.])(?:\d{3,4}\s?[x×]\s?\d{3,4}|\d+(?:\.\d+)?)"
    r"(?:-?[a-z%]+|\s?(?:gb|mb|ms|s|px|fps|%|steps?|images?|times?|percent)(?![\w]))?"
)
_DEVICE_NAME = re.compile(r"(?:rtx|gtx)\s*\d{4}(?:\s*ti)?")
# A device the words describe: speed is measured on the device the run is given, so it is listed, with why.
_DEVICE = re.compile(rf"{_DEVICE_NAME.pattern}|\d+-core|\d+\s*gb|[ahlvbt]\d{{1,3}}|mi\d{{3}}x?")
DEVICE_NOTE = " (a device: speed is measured on the device this runs on)"
# A name with a digit in it ("sd3", "rtx 4090" is a number, "a100"), or a hub id ("org/name").
_MODEL_LIKE = re.compile(r"(?<![\w./-])(?:[\w.-]+/[\w.-]+|[a-z][\w.+-]*\d[\w.+-]*)(?![\w/])")
# Names of image models and few-step variants this tool does not hold: where no known checkpoint's name covers
# them, they are listed too ("SDXL Turbo" read as SDXL base would be a silent drop).
_OTHER_MODELS = re.compile(
    r"(?<![\w-])(?:turbo|lightning(?![\s-]fast)|hyper-?sd|lcm(?:-lora)?|kandinsky|playground|midjourney|dall-?e|hunyuan\w*|"
    r"sana|lumina|kolors|stable cascade|cascade|auraflow|hidream|cosmos|juggernaut\w*|dreamshaper|realvis\w*|"
    r"pony|animagine|imagen|ideogram|recraft|omnigen)(?![\w-])"
)
# Words with a digit that are the field's vocabulary, not names.
_VOCABULARY = frozenset(["img2img", "txt2img", "text2img", "t2i", "i2i", "2m", "3m", "v2", "fp16", "bf16", "fp32",
                        "fp8", "int8", "int4", "1d", "2d", "3d"])  # fmt: skip


def covered(start: int, spans: list[Span]) -> bool:
    """Whether a position lies inside one of the spans read."""
    return any(a <= start < b for a, b in spans)


def not_understood(low: str, spans: list[Span], names: list[Span] | None = None) -> list[str]:
    """The numbers and model-like names of `low` that no span the reader used covers, in order, each once;
    `names`: spans of known names the reading did not use (another family's checkpoint), listed too."""
    found: list[tuple[int, str]] = [(a, low[a:b]) for a, b in names or [] if not covered(a, spans)]
    for pattern in (_DEVICE_NAME, _NUMBER, _MODEL_LIKE, _OTHER_MODELS):
        for m in pattern.finditer(low):
            word = m.group(0).rstrip(".,;:")
            if covered(m.start(), spans) or word in _VOCABULARY:
                continue
            if any(a <= m.start() < a + len(w) for a, w in found):
                continue  # one token, found by two patterns
            found.append((m.start(), word))
    seen: set[str] = set()
    out = []
    for _, word in sorted(found):
        if word not in seen:
            seen.add(word)
            out.append(word + (DEVICE_NOTE if _DEVICE.fullmatch(word) else ""))
    return out


def not_among(low: str, spans: list[Span], values: set[float]) -> list[str]:
    """A reading without spans (a language model's): the numbers outside `spans` whose value is none of `values`
    (the reading's numbers, in every unit they may be written in)."""
    out = []
    for word in not_understood(low, spans):
        number = re.match(r"\d+(?:\.\d+)?", word)
        if number is None or not any(abs(float(number.group(0)) - v) < 1e-6 for v in values):
            out.append(word)
    return out
