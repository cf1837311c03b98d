"""Reading the acceleration methods a request names, with the parameters it states: the suite's phrasings ("DeepCache
with a cache interval of 3"), the methods' usual names ("tomesd", "cache-dit"), and a parameter stated by name after
a bare name ("DeepCache with cache interval 3")."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from diffagent.agent.request_accounting import Span, covered
from diffbench.knowledge.compose import Applied
from diffbench.knowledge.loader import KnowledgeBase
from diffbench.tasks.wording import TAYLORSEER_PHRASES, phrasing


@cache
def _method_patterns() -> dict[str, list[re.Pattern[str]]]:
    """The task phrasings of each method as patterns, with a named group per stated parameter."""
    out: dict[str, list[re.Pattern[str]]] = {}
    for key, forms in phrasing()["methods"].items():
        pats = []
        for form in forms:
            regex, seen = "", set()
            for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\})?", form):
                regex += re.escape(literal)
                if name == "taylorseer_phrase":  # a switch stated as words, not a value
                    options = "|".join(re.escape(v) for v in TAYLORSEER_PHRASES.values())
                    regex += rf"(?P<taylorseer_phrase>{options})?"
                elif name and name not in seen:
                    regex += rf"(?P<{name}>\d+(?:\.\d+)?|[\w-]+)"
                    seen.add(name)
                elif name:
                    regex += r"(?:\d+(?:\.\d+)?|[\w-]+)"
            pats.append(re.compile(regex, re.I))
        out[key] = pats
    return out


def _number(value: str) -> Any:
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def _method_params(key: str, groups: dict[str, str]) -> dict[str, Any]:
    params = {}
    for name, value in groups.items():
        if name == "taylorseer_phrase":
            if value is not None:
                params["taylorseer"] = value.lower() == TAYLORSEER_PHRASES[True].lower()
        elif name.endswith("_percent"):
            base = name.removesuffix("_percent")
            if base == "rest":
                params["fraction"] = round(1 - _number(value) / 100, 4)
            else:
                params[base] = round(_number(value) / 100, 4)
        else:
            params[name] = _number(value)
    return params


# Names people use for the methods besides the knowledge base's own.
_METHOD_ALIASES = {
    "tome": ("token merging", "tomesd", "tome"), "tgate": ("t-gate", "tgate"), "deepcache": ("deep cache",),
    "cache_dit": ("cache-dit", "cachedit", "dbcache"), "first_block_cache": ("first block cache", "fbcache"),
    "mag_cache": ("magcache",), "pab": ("pyramid attention broadcast",), "qkv_fusion": ("qkv fusion", "fused qkv"),
    "torch_compile": ("torch.compile", "torch compile"), "channels_last": ("channels last", "channels-last"),
    "taylorseer_cache": ("taylorseer",), "faster_cache": ("fastercache",),
}  # fmt: skip


def _stated_params(low: str, method: Any, spans: list[Span]) -> tuple[dict[str, Any], list[Span]]:
    """Parameters stated by name right after a method's bare name: "DeepCache with cache interval 3"."""
    params: dict[str, Any] = {}
    read: list[Span] = []
    for param in method.parameters:
        words = re.escape(param.name).replace("_", "[ _-]")
        for _, end in spans:
            m = re.compile(rf"{words}\s*(?:of|=|:|at|to)?\s*(\d+(?:\.\d+)?)").search(low, end, end + 60)
            if m:
                params[param.name] = _number(m.group(1))
                read.append(m.span())
                break
    return params, read


def methods(low: str, kb: KnowledgeBase, read: list[Span]) -> list[Applied]:
    """The methods named, with the parameters their phrasing states; their spans are added to `read`."""
    found: list[tuple[int, Applied]] = []
    phrased: list[tuple[int, int]] = []  # spans of full task phrasings: a bare name inside one is not a mention
    unphrased = []
    for key, patterns in _method_patterns().items():
        for pattern in patterns:
            if m := pattern.search(low):
                found.append((m.start(), Applied(key, _method_params(key, m.groupdict()))))
                phrased.append(m.span())
                break
        else:
            unphrased.append(key)
    for key in unphrased:
        method = kb.method(key)
        names = sorted({method.name.lower(), key.replace("_", " "), key, *_METHOD_ALIASES.get(key, ())})
        spans = [
            m.span()
            for name in names
            for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", low)
            if not covered(m.start(), phrased)
        ]
        if spans:
            params, param_spans = _stated_params(low, method, spans)
            found.append((min(a for a, _ in spans), Applied(key, params)))
            read += spans + param_spans
    read += phrased
    keys = {a.key for _, a in found}
    if "tgate_deepcache" in keys:  # tgate's combined loader is one method, not T-GATE plus DeepCache
        found = [(p, a) for p, a in found if a.key not in ("tgate", "deepcache")]
    elif {"tgate", "deepcache"} <= keys:
        # Asked for together: T-GATE's own loader for the pair is what works (the two applied one after the other
        # patch the same forward and break); their stated parameters carry over.
        names = {param.name for param in kb.method("tgate_deepcache").parameters}
        pair = [(p, a) for p, a in found if a.key in ("tgate", "deepcache")]
        params = {k: v for _, a in pair for k, v in a.params.items() if k in names}
        found = [(p, a) for p, a in found if a.key not in ("tgate", "deepcache")]
        found.append((min(p for p, _ in pair), Applied("tgate_deepcache", params)))
    return [a for _, a in sorted(found, key=lambda f: f[0])]
