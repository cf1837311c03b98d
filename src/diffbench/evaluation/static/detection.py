"""Helpers for the methods' static detectors (`knowledge/methods/<key>/static.py`).

A static detector reads `ModuleFacts` (the calls a solution module would make, arguments resolved) and
returns the method's parameters it could determine, or None when the code does not apply the method. A
parameter the code leaves to the library's default gets that default; one the parser cannot resolve is left
out, so a task that states it fails with "not determined" rather than a guess.
"""

from __future__ import annotations

from typing import Any

from diffbench.evaluation.static.facts import Call, ModuleFacts, Obj, concrete, dotted


def params(call: Call, spec: dict[str, tuple[int | None, Any]]) -> dict[str, Any]:
    """`spec`: parameter -> (position or None, library default). Unresolvable values are left out."""
    out = {}
    for name, (position, default) in spec.items():
        value = call.kwargs.get(name) if name in call.kwargs else None
        if name not in call.kwargs:
            if position is not None and position < len(call.args):
                value = call.args[position]
            elif call.opaque_kwargs:
                continue
            else:
                value = default
        if value is None and default is None:
            continue
        if concrete(value):
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


def calls_on(facts: ModuleFacts, owner: Obj | None, method: str) -> list[Call]:
    """Calls of `owner.method(...)`."""
    return [
        c for c in facts.calls if isinstance(c.callee, Obj) and c.callee.parent is owner and c.callee.attr == method
    ]


def tgate_call(facts: ModuleFacts) -> Call | None:
    """The last `pipe.tgate(...)` call made while generating."""
    calls = [c for c in facts.generation_calls if isinstance(c.callee, Obj) and c.callee.attr == "tgate"]
    return calls[-1] if calls else None


def names_end_with(value: Any, *suffixes: str) -> bool:
    name = dotted(value)
    return name is not None and any(name == s or name.endswith("." + s) for s in suffixes)


def config_applied(facts: ModuleFacts, config_class: str, apply_function: str) -> Call | None:
    """diffusers' cache configs: `cfg = XConfig(...)` then `apply_x(module, cfg)` or `module.enable_cache(cfg)`."""
    for config in reversed(facts.find(config_class)):
        result = config.result
        used = [
            c
            for c in facts.calls
            if (c.matches(apply_function) or c.matches("enable_cache"))
            and (result in c.args or result in c.kwargs.values())
        ]
        if used:
            return config
    return None


def cache_config_params(
    facts: ModuleFacts,
    config_class: str,
    apply_function: str,
    spec: dict[str, tuple[int | None, Any]],
    names: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    """A diffusers cache config's parameters (`spec` as for `params`), under the knowledge base's names where
    `names` maps a library keyword to one; None when the code applies no such config."""
    config = config_applied(facts, config_class, apply_function)
    if config is None:
        return None
    return {(names or {}).get(k, k): v for k, v in params(config, spec).items()}
