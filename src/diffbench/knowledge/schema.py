"""What the knowledge base knows about one acceleration method, as typed data read from `method.yaml`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Category = Literal["sampler", "feature-caching", "token-merging", "attention-gating", "precision", "kernel", "guidance"]


class Parameter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: Literal["int", "float", "bool", "choice"]
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    sensible: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="per family key: the sub-range worth searching"
    )
    effect: str = ""

    @model_validator(mode="after")
    def _default_is_valid(self) -> Parameter:
        needs = {"choice": self.choices, "int": self.high, "float": self.high}.get(self.type, True)
        if needs is None or (self.type in ("int", "float") and self.low is None):
            raise ValueError(f"parameter {self.name}: a {self.type} needs its choices or its low and high")
        try:
            self.validate_value(self.default)
        except ValueError as err:
            raise ValueError(f"parameter {self.name}: invalid default: {err}") from None
        return self

    @property
    def span(self) -> str:
        """Its range for people: "1-10", or the choices "1/2/4/8", or "" for a bool."""
        if self.low is not None and self.high is not None:
            return f"{self.low:g}-{self.high:g}"
        return "/".join(map(str, self.choices or ()))

    def validate_value(self, value: Any) -> Any:
        if self.type == "choice":
            if value not in (self.choices or ()):
                raise ValueError(f"{self.name}={value!r}: expected one of {self.choices}")
        elif self.type == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{self.name}={value!r}: expected true or false")
        else:
            cast = int if self.type == "int" else float
            if isinstance(value, bool) or cast(value) != value or not self.low <= value <= self.high:  # type: ignore[operator]
                raise ValueError(f"{self.name}={value!r}: expected {self.type} in [{self.low}, {self.high}]")
        return value


class Conflict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    method: str
    reason: str
    inert: bool = Field(
        default=False,
        description="the two run together, but this method then changes nothing (the judge's effect rule fails it)",
    )


class Unsupported(BaseModel):
    """A declared incompatibility: the method does not apply to these families (or conditionings), and why; with
    `settings`, only that combination of parameter values does not (the method itself still applies)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    families: tuple[str, ...] = ()
    conditionings: tuple[str, ...] = ()
    settings: dict[str, Any] = Field(default_factory=dict, description="parameter values that together fail here")
    reason: str

    def matches(self, family: str, conditioning: str | None, params: dict[str, Any] | None) -> bool:
        if self.settings and (params is None or any(params.get(k) != v for k, v in self.settings.items())):
            return False
        if self.families:
            return family in self.families and (not self.conditionings or conditioning in self.conditionings)
        return conditioning in self.conditionings

    @property
    def where(self) -> str:
        """For people: "sd15, sd21", or "sd35 with taylorseer=True, bn_blocks=0"."""
        where = ", ".join(self.families or self.conditionings)
        if self.settings:
            where += " with " + ", ".join(f"{k}={v}" for k, v in self.settings.items())
        return where


class PublishedFigure(BaseModel):
    """A figure from a paper or official docs, measured on real weights and a GPU; never from this project."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    hardware: str
    setting: str
    speedup: float | None = None
    quality: str = ""


class CheckHints(BaseModel):
    """How `diffbench methods check` should run this method on a CPU profile, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cpu_steps: int | None = Field(default=None, description="steps for baseline and method alike, instead of 50")
    reason: str


class Method(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    name: str
    category: Category
    summary: str
    library: str = Field(description="what provides it: diffusers, DeepCache, tgate, tomesd, torch, or this project")
    parameters: tuple[Parameter, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    composes_with: tuple[str, ...] = Field(
        default=(), description="methods run together with this one and both found on the pipeline (tested)"
    )
    unsupported: tuple[Unsupported, ...] = ()
    insights: tuple[str, ...] = Field(default=(), description="tuning advice for planners, in words")
    published: tuple[PublishedFigure, ...] = ()
    check: CheckHints | None = None
    devices: tuple[Literal["cpu", "cuda"], ...] = Field(
        default=("cpu", "cuda"), description="where it runs: float8 matmuls, for one, exist only on recent GPUs"
    )
    scheduler: str | None = Field(default=None, description="a sampler's diffusers scheduler class")
    task_parameters: tuple[str, ...] = Field(
        default=(), description="the parameters a task prompt states and the judge matches exactly"
    )
    not_in_suite: str | None = Field(
        default=None, description="why the task suite never asks for this method (the agent may still use it)"
    )
    # Filled by the loader from the method's folder, not written in method.yaml:
    templates: dict[str, str] = Field(default_factory=dict, description="family key -> template file name")

    @model_validator(mode="after")
    def _task_parameters_exist(self) -> Method:
        names = {p.name for p in self.parameters}
        if unknown := [n for n in self.task_parameters if n not in names]:
            raise ValueError(f"task_parameters {unknown} are not parameters of {self.key}")
        if (self.category == "sampler") != (self.scheduler is not None):
            raise ValueError(f"{self.key}: a sampler names its scheduler class, and only a sampler does")
        return self

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(f"{self.key} has no parameter {name!r}")

    def defaults(self, family: str | None = None) -> dict[str, Any]:
        """The library's defaults; for `family`, a default outside the family's sensible range is replaced by the
        range's lower end (ToMe's max_downsample 1 merges nothing on SDXL, whose top stage has no attention)."""
        out = {}
        for p in self.parameters:
            low_high = p.sensible.get(family) if family else None
            if low_high and not low_high[0] <= p.default <= low_high[1]:
                out[p.name] = type(p.default)(low_high[0])  # the range is written as floats; keep an int an int
            else:
                out[p.name] = p.default
        return out

    def resolve(self, params: dict[str, Any] | None = None, family: str | None = None) -> dict[str, Any]:
        """Defaults (for `family`, when given) overridden by `params`, each checked against its type and range."""
        merged = self.defaults(family)
        for name, value in (params or {}).items():
            merged[name] = self.parameter(name).validate_value(value)
        return merged

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(self.templates)

    def conflicts_with(self, other: str) -> Conflict | None:
        return next((c for c in self.conflicts if c.method == other), None)

    def inert_beside(self, others: list[str]) -> Conflict | None:
        """The declared conflict under which this method, run with `others`, changes nothing."""
        return next((c for c in self.conflicts if c.inert and c.method in others), None)

    def why_unsupported(
        self, family: str, conditioning: str | None = None, params: dict[str, Any] | None = None
    ) -> str | None:
        """Why the method does not apply here (None where it does). An entry that names parameter settings counts
        only when `params` (resolved: defaults included) are given and hold those values."""
        for u in self.unsupported:
            if u.matches(family, conditioning, params):
                return u.reason
        if family not in self.templates:
            return f"no template for family {family!r}"
        return None
