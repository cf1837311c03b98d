"""The words of a request made plain before they are read: lower case, numbers written as words as digits, decimal
commas as points, the request's words in German, French, Spanish or Italian as the English ones the reader knows,
and typos of the field's words answered with the nearest known word. Every change that is more than spelling
is kept, so the reading can say what it read each word as ("read 'stpes' as 'steps'").

Foreign words are read only where they carry a number or a name's meaning (steps, faster, quality loss, seconds,
at most); a request in another language is read through its numbers and names, and whatever number is left
unread is listed by the accounting (request_accounting.py), never dropped."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "twelve": 12, "fifteen": 15, "twenty": 20, "twenty-five": 25, "thirty": 30, "forty": 40, "fifty": 50,
}  # fmt: skip

# Each language: the words that mark it, and its words for what a request states, as the English the reader reads.
_LANGUAGES: dict[str, tuple[frozenset[str], dict[str, str]]] = {
    "German": (
        _set("der die das und mit meine meinen unsere bitte mach mache ist nicht wir ich auf für bei"),
        {"schritten": "steps", "schritte": "steps", "schritt": "steps", "doppelt so schnell": "twice as fast",
         "halb so lange": "half the time", "mal schneller": "x faster", "mal so schnell": "x faster",
         "schneller": "faster", "beschleunige": "speed up", "beschleunigen": "speed up",
         "qualitätsverlust": "quality loss", "qualität": "quality", "höchstens": "at most", "maximal": "at most",
         "sekunden": "seconds", "unter": "under", "stärke": "strength", "auflösung": "resolution", "bei": "at",
         "mit": "with"},
    ),
    "French": (
        _set("le la les et avec mon ma mes est pour une des du rends vous sans"),
        {"étapes": "steps", "deux fois plus rapide": "twice as fast", "fois plus rapide": "x faster",
         "plus rapide": "faster", "accélère": "speed up", "accélérer": "speed up", "perte de qualité": "quality loss",
         "qualité": "quality", "au plus": "at most", "au maximum": "at most", "secondes": "seconds", "sous": "under",
         "avec": "with", "à": "at"},
    ),
    "Spanish": (
        _set("el la los las con mi mis por favor es una para hazlo haz y del"),
        {"pasos": "steps", "dos veces más rápido": "twice as fast", "el doble de rápido": "twice as fast",
         "veces más rápido": "x faster", "más rápido": "faster", "acelera": "speed up", "acelerar": "speed up",
         "pérdida de calidad": "quality loss", "calidad": "quality", "como máximo": "at most",
         "segundos": "seconds", "con": "with", "a": "at"},
    ),
    "Italian": (
        _set("il lo la gli con mio mia per favore una fai più e del della"),
        {"passi": "steps", "due volte più veloce": "twice as fast", "volte più veloce": "x faster",
         "più veloce": "faster", "accelera": "speed up", "perdita di qualità": "quality loss", "qualità": "quality",
         "al massimo": "at most", "secondi": "seconds", "con": "with", "a": "at"},
    ),
}  # fmt: skip
_ENGLISH = _set("the a an and with my our to of at is it please make faster steps we in for")

# Words a typo is answered with: the field's words that carry a reading. Common English words among them are
# corrected only by a dropped, doubled or swapped letter, never by a changed one ("master" stays "master").
_COMMON_TARGETS = ("steps", "faster", "quality", "latency", "speedup", "seconds", "strength", "guidance",
                   "resolution", "scheduler", "sampler", "inference", "quicker", "stable", "diffusion")  # fmt: skip
# Words near a target that are words in their own right, never corrected.
_KEEP = _set("step stop stops sample samples scale stage state stale latent latents master fast steep "
                  "sigma alpha fluxes seconds second stable")  # fmt: skip


@dataclass
class Wording:
    low: str  # the words as the reader reads them
    corrections: list[tuple[str, str]] = field(default_factory=list)  # (as written, as read)
    language: str | None = None  # a request not in English, where its words say which language

    def notes(self) -> list[str]:
        out = [f"read {a!r} as {b!r}" for a, b in self.corrections]
        if self.language:
            out.insert(0, f"the request reads as {self.language}: read through its numbers, names and the words "
                          "for steps, speed and quality; anything else in it is not read")  # fmt: skip
        return out


def _spelled(low: str) -> str:
    """Numbers written as words, as digits, where they count something ("forty steps" -> "40 steps", "three times
    as fast", "a factor of two"); "in one pipeline" stays words."""
    words = "|".join(sorted(_WORDS, key=len, reverse=True))
    counted = r"(?=\s+(?:[a-z+.-]+\s+){0,2}?(?:steps?|times|x\b|seconds?|percent|its\b)|\s*%)"
    low = re.sub(rf"\b({words})\b{counted}", lambda m: str(_WORDS[m.group(1)]), low)
    return re.sub(rf"(?<=factor of )({words})\b", lambda m: str(_WORDS[m.group(1)]), low)


def _language(low: str) -> str | None:
    words = re.findall(r"[^\W\d_]+", low)
    english = sum(w in _ENGLISH for w in words)
    scores = {  # the language's small words, and its words for steps, speed and quality
        name: sum(w in marks for w in words) + sum(len(k) > 3 and re.search(rf"(?<!\w){k}(?!\w)", low) is not None
                                                   for k in table)
        for name, (marks, table) in _LANGUAGES.items()
    }  # fmt: skip
    name, score = max(scores.items(), key=lambda s: s[1])
    return name if score >= 2 and score > english else None


def _translated(low: str, language: str) -> str:
    table = _LANGUAGES[language][1]
    for word in sorted(table, key=len, reverse=True):
        low = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", table[word], low)
    return re.sub(r"(\d+)\s+pas\b", r"\1 steps", low)  # French "30 pas": only after a number ("ne ... pas")


def _one_edit(word: str, target: str, substitution: bool) -> bool:
    """`word` is `target` with one letter dropped, added, swapped with its neighbour, or (if allowed) changed."""
    if word == target or abs(len(word) - len(target)) > 1:
        return False
    if len(word) == len(target):
        diff = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and word[diff[0]] == target[diff[1]]
        swapped = swapped and word[diff[1]] == target[diff[0]]
        return swapped or (substitution and len(diff) == 1)
    short, long = (word, target) if len(word) < len(target) else (target, word)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _corrected(low: str, names: Iterable[str]) -> tuple[str, list[tuple[str, str]]]:
    common = set(_COMMON_TARGETS)
    words = {w for name in names for w in name.lower().split()}
    targets = sorted({w for w in words if len(w) >= 5 and re.fullmatch(r"[a-z][a-z0-9+-]*", w)} | common)
    known = set(targets)
    corrections: list[tuple[str, str]] = []

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        if len(word) < 5 or word in known or word in _KEEP or word.rstrip("s") in known:
            return word
        for target in targets:
            if _one_edit(word, target, substitution=target not in common and len(word) >= 6):
                if (word, target) not in corrections:
                    corrections.append((word, target))
                return target
        return word

    return re.sub(r"(?<![\w/.-])[a-z][a-z+]{4,}(?![\w/.-])", fix, low), corrections


def plain_words(text: str, names: Iterable[str] = ()) -> Wording:
    """The words of `text` as the reader reads them; `names`: the field's known names (checkpoints, schedulers,
    methods) that a typo is answered with."""
    low = text.lower()
    low = re.sub(r"(\d),(\d{3})(?!\d)", r"\1\2", low)  # 1,024 px
    low = re.sub(r"(\d),(\d{1,2})(?!\d)", r"\1.\2", low)  # 0,6 (a decimal comma)
    low = re.sub(r"-(pipeline|model|service|checkpoint)\b", r" \1", low)  # "SDXL-Pipeline"
    low = re.sub(r"(\d)\s*(?:percent|per cent)\b", r"\1%", _spelled(low))
    language = _language(low)
    if language:
        low = _translated(low, language)
    low, corrections = _corrected(low, names)
    return Wording(low, corrections, language)
