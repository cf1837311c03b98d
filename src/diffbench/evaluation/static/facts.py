"""What the abstract interpreter learns about a module: the calls it would make, with resolved arguments.

Values are plain Python constants where the code makes them resolvable, `Ref` for imported names
(`Ref("torch.float16")`), `Obj` for anything a call or an attribute produces, and `UNKNOWN` otherwise.
Method detectors in the knowledge base (`methods/<key>/static.py`) read `ModuleFacts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class _Unknown:
    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class Ref:
    """An imported (or otherwise global) dotted name: `diffusers.DDIMScheduler`, `torch.float16`."""

    name: str

    @property
    def last(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(eq=False)
class Obj:
    """A value the code makes at run time: a call's result, an attribute of one, an item of one.

    `kind` names where it came from (`diffusers.StableDiffusionPipeline`, `...Pipeline.unet`, `request[image]`);
    `attrs` holds attributes the code assigned (`pipe.scheduler = ...`) or read."""

    kind: str
    call: Call | None = None
    parent: Obj | None = None
    attr: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Call:
    name: str  # dotted name of what was called: "tomesd.apply_patch", "diffusers.StableDiffusionPipeline.__call__"
    callee: Any
    args: list[Any]
    kwargs: dict[str, Any]
    scope: str  # the outermost contract function it ran under: "<module>", "load_pipeline" or "generate"
    line: int
    opaque_kwargs: bool = False  # a `**x` whose contents could not be resolved
    result: Obj | None = None

    def matches(self, *suffixes: str) -> bool:
        """Whether the dotted name ends with one of `suffixes` on a component boundary."""
        return any(self.name == s or self.name.endswith("." + s) for s in suffixes)

    def arg(self, position: int, keyword: str, default: Any = UNKNOWN) -> Any:
        if keyword in self.kwargs:
            return self.kwargs[keyword]
        if position < len(self.args):
            return self.args[position]
        return default


@dataclass
class ModuleFacts:
    calls: list[Call] = field(default_factory=list)
    functions: set[str] = field(default_factory=set)
    pipeline: Obj | None = None  # what load_pipeline returns (or the last pipeline the code built)
    generation_calls: list[Call] = field(default_factory=list)
    dtype: str | None = None  # filled by the attribute extractor before method detectors run

    def find(self, *suffixes: str, scope: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.matches(*suffixes) and (scope is None or c.scope == scope)]

    def generation_kwarg(self, name: str, default: Any = UNKNOWN) -> Any:
        """A keyword of the image-generating call (the last one when there are several)."""
        for call in reversed(self.generation_calls):
            if name in call.kwargs:
                return call.kwargs[name]
        return default


def concrete(value: Any) -> bool:
    """Whether a value is fully known: a constant, or a tuple/list/dict of them."""
    if isinstance(value, (list, tuple)):
        return all(concrete(v) for v in value)
    if isinstance(value, dict):
        return all(concrete(v) for v in value.values())
    return isinstance(value, (int, float, str, bool, type(None)))


def dotted(value: Any) -> str | None:
    """The dotted name of a reference (`torch.float16`), or of a string that names one."""
    if isinstance(value, Ref):
        return value.name
    if isinstance(value, str):
        return value
    return None
