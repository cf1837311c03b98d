"""Reads the method folders under `methods/`: `method.yaml`, `templates/*.py.j2`, `detect.py` (finds the
method on a built pipeline or in the trace of a call, and may say whether it took effect in that call) and,
optionally, `static.py` (finds it in source code, for the static parser).

A method folder is discovered, never registered: nothing here names a method. Template files are matched to
families by name: `templates/<family key>.py.j2` first, then the template of the family it shares templates with
(Qwen-Image: FLUX.1's), then `templates/<backbone>.py.j2` (unet or transformer), then `templates/all.py.j2`;
families the method declares unsupported get none.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from diffbench.errors import DiffbenchError
from diffbench.knowledge.schema import Method
from diffbench.models.families import FAMILIES

METHODS_DIR = Path(__file__).parent / "methods"
MEASURED_DIR = Path(__file__).parent / "measured"
TEMPLATE_SUFFIX = ".py.j2"

Detector = Callable[..., "dict[str, Any] | None"]  # detect(pipe) or detect(pipe, trace)
StaticDetector = Callable[[Any], "dict[str, Any] | None"]  # takes diffbench.evaluation.static.ModuleFacts


class KnowledgeError(DiffbenchError):
    pass


class KnowledgeBase:
    def __init__(self, methods: dict[str, Method], folders: dict[str, Path]) -> None:
        self.methods = methods
        self._folders = folders

    def __iter__(self):
        return iter(self.methods.values())

    def method(self, key: str) -> Method:
        try:
            return self.methods[key]
        except KeyError:
            raise KnowledgeError(f"unknown method {key!r}; known: {', '.join(sorted(self.methods))}") from None

    def template_path(self, key: str, family: str) -> Path:
        method = self.method(key)
        if family not in method.templates:
            reason = method.why_unsupported(family) or "no template"
            raise KnowledgeError(f"method {key!r} does not apply to family {family!r}: {reason}")
        return self._folders[key] / "templates" / method.templates[family]

    def _runtime(self, key: str) -> Any:
        return importlib.import_module(f"diffbench.knowledge.methods.{self.method(key).key}.detect")

    def detector(self, key: str) -> Detector:
        return self._runtime(key).detect

    def effect_rule(self, key: str) -> tuple[str, str] | None:
        """(rule name, what it measures) for a method whose effect the judge checks at run time."""
        module = self._runtime(key)
        return (module.RULE, module.MEASURES) if hasattr(module, "effect") else None

    def probes(self, keys: list[str]) -> dict[str, Callable[[Any], Any]]:
        """`probe(denoiser)` of each of `keys` that has one: what the method's state shows after each denoiser
        call, for its effect rule (read during the call, so a reset after the call does not hide it)."""
        found = {}
        for key in keys:
            if key in self.methods and hasattr(module := self._runtime(key), "probe"):
                found[key] = module.probe
        return found

    def effects(self, pipe: Any, trace: Any, keys: list[str]) -> dict[str, dict[str, Any]]:
        """For each of `keys` that declares an effect: whether it changed the computation of the traced call."""
        out: dict[str, dict[str, Any]] = {}
        for key in keys:
            module = self._runtime(key)
            if not hasattr(module, "effect"):
                continue
            verdict = module.effect(pipe, trace)
            out[key] = {
                "rule": module.RULE,
                "took_effect": None if verdict is None else verdict[0],
                "evidence": "not observable in this call (the denoiser's inside is compiled or was not called)"
                if verdict is None
                else verdict[1],
            }
        return out

    def static_detectors(self) -> dict[str, StaticDetector]:
        """Method key -> `detect(facts)` from its `static.py`, for the methods that have one (samplers do not:
        the parser reports them as the scheduler class and step count)."""
        found = {}
        for key, folder in self._folders.items():
            if (folder / "static.py").is_file():
                found[key] = importlib.import_module(f"diffbench.knowledge.methods.{key}.static").detect
        return found

    def detect_all(self, pipe: Any, trace: Any = None) -> dict[str, dict[str, Any]]:
        """Every method the built pipeline carries (or, with a call's trace, that the call showed), with the
        parameters its detector could read."""
        found = {}
        for key in self.methods:
            detect = self.detector(key)
            params = detect(pipe, trace) if _takes_trace(detect) else detect(pipe)
            if params is not None:
                found[key] = params
        return found

    def for_family(self, family: str) -> list[Method]:
        return [m for m in self if family in m.templates]

    def measured(self, profile: str) -> dict[str, Any]:
        """What `diffbench methods check --record` measured under `profile` (empty if never recorded)."""
        path = MEASURED_DIR / f"{profile}.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def measured_speedups(self, profile: str, family: str, best_variant: bool = False) -> dict[str, float]:
        """Per method, the speedup `methods check` recorded on `family` under `profile` (pairs that ran ok): at the
        method's defaults, or with `best_variant` the best over every recorded variant (an adaptive cache whose
        default threshold skips nothing on the stand-ins may still gain 2x inside its sensible range)."""
        out: dict[str, float] = {}
        for p in self.measured(profile).get("pairs", []):
            if p["family"] != family or not p.get("ok"):
                continue
            if best_variant:
                out[p["method"]] = max(out.get(p["method"], 0.0), p.get("speedup") or 0.0)
            elif p.get("variant", p["method"]) == p["method"]:
                out[p["method"]] = p.get("speedup") or 0.0
        return out

    def compatible_pairs(self) -> set[frozenset[str]]:
        """Every pair of methods the knowledge base declares composable."""
        return {frozenset((m.key, other)) for m in self for other in m.composes_with}


@cache
def _takes_trace(detect: Detector) -> bool:
    """Whether a detector reads a call's trace (`detect(pipe, trace)`); asked once per detector, not per call."""
    return len(inspect.signature(detect).parameters) > 1


def _templates_for(folder: Path, method: Method) -> dict[str, str]:
    available = {p.name.removesuffix(TEMPLATE_SUFFIX) for p in (folder / "templates").glob("*" + TEMPLATE_SUFFIX)}
    mapping = {}
    for fam in FAMILIES.values():
        if any(fam.key in u.families and not u.conditionings and not u.settings for u in method.unsupported):
            continue
        kin = (fam.shares_templates_with,) if fam.shares_templates_with else ()
        for name in (fam.key, *kin, fam.backbone, "all"):
            if name in available:
                mapping[fam.key] = name + TEMPLATE_SUFFIX
                break
    return mapping


def _load_method(folder: Path) -> Method:
    source = folder / "method.yaml"
    try:
        raw = yaml.safe_load(source.read_text())
        method = Method.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as err:
        raise KnowledgeError(f"{source}: {err}") from err
    if method.key != folder.name:
        raise KnowledgeError(f"{source}: key {method.key!r} must equal its folder name {folder.name!r}")
    return method.model_copy(update={"templates": _templates_for(folder, method)})


@cache
def load_knowledge(methods_dir: Path = METHODS_DIR) -> KnowledgeBase:
    folders = {p.name: p for p in sorted(methods_dir.iterdir()) if (p / "method.yaml").is_file()}
    methods = {name: _load_method(folder) for name, folder in folders.items()}
    for method in methods.values():
        for other in [c.method for c in method.conflicts] + list(method.composes_with):
            if other not in methods:
                raise KnowledgeError(f"method {method.key!r} names unknown method {other!r}")
            if method.conflicts_with(other) and other in method.composes_with:
                raise KnowledgeError(f"method {method.key!r} both conflicts and composes with {other!r}")
    return KnowledgeBase(methods, folders)
