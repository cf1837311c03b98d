"""Key attributes of a solution module, read from its source without running it (the paper's stage 1)."""

from __future__ import annotations

import ast
import inspect
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from diffbench.evaluation.static.facts import Call, ModuleFacts, Obj, dotted
from diffbench.evaluation.static.interpreter import interpret
from diffbench.knowledge.loader import KnowledgeBase, load_knowledge
from diffbench.models.families import Conditioning, UnknownModelError, checkpoint, family_of
from diffbench.tasks.attributes import Attributes

CONTRACT = {"load_pipeline": 1, "generate": 2}
_DTYPES = {"float16": "float16", "half": "float16", "fp16": "float16", "bfloat16": "bfloat16", "bf16": "bfloat16",
           "float32": "float32", "float": "float32", "fp32": "float32"}  # fmt: skip
_AUTO = {"AutoPipelineForText2Image": Conditioning.TEXT, "AutoPipelineForImage2Image": Conditioning.IMAGE}
_CANNY = ("cv2.Canny", "Canny", "skimage.feature.canny", "feature.canny", "CannyDetector")


class StaticResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    compile_error: str | None = None
    attributes: Attributes | None = None
    strength: float | None = None  # image-to-image: the share of the steps that run (the judge's step check)
    frames: int | None = None  # a video pipeline's frame count: the call's num_frames, else the pipeline's default

    @property
    def compiles(self) -> bool:
        return self.compile_error is None


def analyze(source: str, kb: KnowledgeBase | None = None, filename: str = "solution.py") -> StaticResult:
    """Compile check, contract check, then the key attributes. Never raises on bad source."""
    try:
        tree = ast.parse(source, filename)
        compile(tree, filename, "exec")
    except SyntaxError as err:
        return StaticResult(compile_error=f"{type(err).__name__}: {err.msg} (line {err.lineno})")
    except (ValueError, RecursionError, MemoryError) as err:
        return StaticResult(compile_error=f"{type(err).__name__}: {err}")
    defined = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for name, arity in CONTRACT.items():
        node = defined.get(name)
        if node is None:
            return StaticResult(compile_error=f"the module defines no {name}() (see docs/contract.md)")
        positional = len(node.args.posonlyargs) + len(node.args.args)
        if positional - len(node.args.defaults) > arity or (positional < arity and node.args.vararg is None):
            return StaticResult(compile_error=f"{name}() must take {arity} positional argument(s)")
    facts = interpret(tree)
    attributes = attributes_of(facts, kb or load_knowledge())
    return StaticResult(
        attributes=attributes,
        strength=_strength(facts, attributes.pipeline_class),
        frames=_frames(facts, attributes.pipeline_class),
    )


def attributes_of(facts: ModuleFacts, kb: KnowledgeBase) -> Attributes:
    pipe = facts.pipeline
    maker = pipe.call if pipe is not None else None
    model_id = _model_id(pipe)
    pipeline_class = _pipeline_class(pipe, model_id)
    facts.dtype = _dtype(facts, pipe)
    methods = {}
    for key, detect in kb.static_detectors().items():
        try:
            found = detect(facts)
        except Exception:
            found = None
        if found is not None:
            methods[key] = found
    controlnet = maker.kwargs.get("controlnet") if maker is not None else None
    return Attributes(
        pipeline_class=pipeline_class,
        model_id=model_id,
        controlnet_id=_model_id(controlnet) if isinstance(controlnet, Obj) else None,
        scheduler_class=_scheduler(pipe, model_id),
        num_inference_steps=_steps(facts, pipeline_class),
        resolution=_resolution(facts, pipeline_class, model_id),
        dtype=facts.dtype,
        methods=methods,
        preprocessors=("canny",) if facts.find(*_CANNY) else (),
    )


def _model_id(obj: Obj | None) -> str | None:
    """The repository a from_pretrained/from_pipe chain loads."""
    seen = 0
    while obj is not None and obj.call is not None and seen < 10:
        seen += 1
        call = obj.call
        if call.matches("from_pipe"):
            source = call.arg(0, "pipeline")
            obj = source if isinstance(source, Obj) else None
            continue
        value = call.arg(0, "pretrained_model_name_or_path")
        return value if isinstance(value, str) else None
    return None


def _class_of(obj: Any) -> str | None:
    """The class an object was built from, if the code built it with a constructor or from_* call."""
    if isinstance(obj, Obj) and obj.call is not None and obj.attr is None and not obj.kind.endswith(")"):
        return obj.kind.rsplit(".", 1)[-1]
    return None


def _pipeline_class(pipe: Obj | None, model_id: str | None) -> str | None:
    name = _class_of(pipe)
    if name is None or model_id is None:
        return name
    try:
        fam = family_of(model_id)
    except UnknownModelError:
        return name
    controlnet = pipe.call is not None and "controlnet" in pipe.call.kwargs
    if name in _AUTO or name == "DiffusionPipeline":
        conditioning = _AUTO.get(name, fam.plain_conditioning)
        if controlnet and conditioning == Conditioning.TEXT:
            conditioning = Conditioning.CANNY
        return fam.pipelines.get(conditioning, name)
    return name


def _scheduler(pipe: Obj | None, model_id: str | None) -> str | None:
    if pipe is None:
        return None
    assigned = _class_of(pipe.attrs.get("scheduler"))
    if assigned:
        return assigned
    given = _class_of(pipe.call.kwargs.get("scheduler")) if pipe.call is not None else None
    if given:
        return given
    try:
        return checkpoint(model_id).scheduler if model_id else None
    except UnknownModelError:
        return None


@cache
def _default_call_argument(pipeline_class: str, name: str) -> Any:
    """A diffusers pipeline's default for one argument of its __call__ (read from the signature, not run)."""
    import diffusers

    cls = getattr(diffusers, pipeline_class, None)
    if cls is None:
        return None
    parameter = inspect.signature(cls.__call__).parameters.get(name)
    return None if parameter is None or parameter.default is inspect.Parameter.empty else parameter.default


def _default_steps(pipeline_class: str) -> int | None:
    value = _default_call_argument(pipeline_class, "num_inference_steps")
    return value if isinstance(value, int) else None


def _steps(facts: ModuleFacts, pipeline_class: str | None) -> int | None:
    if not facts.generation_calls:
        return None
    value = facts.generation_kwarg("num_inference_steps", default=None)
    if value is None:
        if any(c.opaque_kwargs for c in facts.generation_calls) or pipeline_class is None:
            return None
        return _default_steps(pipeline_class)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _frames(facts: ModuleFacts, pipeline_class: str | None) -> int | None:
    """A video pipeline's frame count from the generating call, else the pipeline's default (Wan: 81); None for an
    image pipeline or a count the parser cannot state."""
    if not pipeline_class:
        return None
    default = _default_call_argument(pipeline_class, "num_frames")
    if not isinstance(default, int):
        return None
    value = facts.generation_kwarg("num_frames", default=None)
    if value is None:
        return default
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _strength(facts: ModuleFacts, pipeline_class: str | None) -> float | None:
    """Image-to-image strength from the generating call, else the pipeline's default; None for other kinds."""
    if not pipeline_class or "Img2Img" not in pipeline_class:
        return None
    value = facts.generation_kwarg("strength", default=None)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return _default_call_argument(pipeline_class, "strength")


def _size(value: Any) -> tuple[int, int] | None:
    """(height, width) from a PIL-style (width, height) pair."""
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return (value[1], value[0])
    return None


def _resolution(facts: ModuleFacts, pipeline_class: str | None, model_id: str | None) -> tuple[int, int] | None:
    height = facts.generation_kwarg("height", default=None)
    width = facts.generation_kwarg("width", default=None)
    if isinstance(height, int) and isinstance(width, int):
        return (height, width)
    if height is not None or width is not None:
        return None  # one side given or unresolvable: not a square the parser can state
    if pipeline_class and ("Img2Img" in pipeline_class or "ControlNet" in pipeline_class):
        # These follow the size of the image they are given: the code resizes the request's image.
        resized = [_size(c.arg(0, "size")) for c in facts.find("resize", scope="generate")]
        resized = [r for r in resized if r is not None]
        return resized[-1] if resized else None
    if (
        pipeline_class
    ):  # a pipeline whose call has a fixed default size (Wan: 480x832) makes that, whatever the checkpoint
        defaults = (_default_call_argument(pipeline_class, "height"), _default_call_argument(pipeline_class, "width"))
        if all(isinstance(v, int) for v in defaults):
            return defaults
    try:
        ck = checkpoint(model_id) if model_id else None
    except UnknownModelError:
        return None
    return (ck.resolution, ck.width or ck.resolution) if ck and ck.resolution else None


def _dtype_name(value: Any) -> str | None:
    name = dotted(value)
    return _DTYPES.get(name.rsplit(".", 1)[-1]) if name else None


def _dtype(facts: ModuleFacts, pipe: Obj | None) -> str | None:
    if pipe is None:
        return None
    dtype = "float32"
    if pipe.call is not None:
        for key in ("torch_dtype", "dtype"):
            if key in pipe.call.kwargs:
                dtype = _dtype_name(pipe.call.kwargs[key]) or dtype
    for call in facts.calls:
        if not (isinstance(call.callee, Obj) and call.callee.parent is pipe):
            continue
        if call.callee.attr == "half":
            dtype = "float16"
        elif call.callee.attr == "to":
            dtype = _dtype_of_to(call) or dtype
    return dtype


def _dtype_of_to(call: Call) -> str | None:
    if "dtype" in call.kwargs:
        return _dtype_name(call.kwargs["dtype"])
    for arg in call.args:
        if (name := _dtype_name(arg)) is not None and dotted(arg) != "float":
            return name
    return None
