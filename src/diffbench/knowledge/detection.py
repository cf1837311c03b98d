"""Helpers for the methods' runtime detectors (`methods/<key>/detect.py`).

A detector looks at a *built* pipeline object and says whether it carries its method and with which
parameters, so the evaluator can confirm what a solution's code claims. Settings that exist only at call
time (a step count, T-GATE's gate_step) are confirmed from the call itself, not here; a scheduler's
timesteps do show how many steps the last call ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from diffbench.models.families import SECOND_EXPERT


def raw_denoiser(pipe: Any) -> nn.Module | None:
    """`pipe.unet` or `pipe.transformer` as it is (possibly a torch.compile wrapper).

    No truthiness tests here: a compiled module's __len__ raises TypeError under torch 2.13.
    """
    module = getattr(pipe, "unet", None)
    return module if module is not None else getattr(pipe, "transformer", None)


def raw_denoisers(pipe: Any) -> list[tuple[str, nn.Module]]:
    """Every denoiser the pipeline calls, by attribute name, each as it is (possibly a torch.compile wrapper):
    the one `raw_denoiser` returns, and Wan 2.2 A14B's second expert where the pipeline has one."""
    found = []
    for name in ("unet", "transformer", SECOND_EXPERT):
        module = getattr(pipe, name, None)
        if isinstance(module, nn.Module) and (name != "transformer" or not found):
            found.append((name, module))
    return found


def denoiser(pipe: Any) -> nn.Module | None:
    """The denoiser module itself, unwrapped from torch.compile."""
    module = raw_denoiser(pipe)
    return getattr(module, "_orig_mod", module)


def scheduler_of(pipe: Any, class_name: str) -> dict[str, Any] | None:
    scheduler = getattr(pipe, "scheduler", None)
    if type(scheduler).__name__ != class_name:
        return None
    timesteps = getattr(scheduler, "timesteps", None)
    ran = len(timesteps) if timesteps is not None and getattr(scheduler, "num_inference_steps", None) else None
    return {"scheduler": class_name, "steps_last_run": ran}


def attention_modules(module: nn.Module) -> Iterator[nn.Module]:
    """Attention layers of both kinds diffusers has: `Attention` (UNets, DiT, PixArt, SD3) and the newer
    per-model classes built on `AttentionModuleMixin` (FluxAttention, QwenDoubleStreamAttention)."""
    from diffusers.models.attention import AttentionModuleMixin
    from diffusers.models.attention_processor import Attention

    return (m for m in module.modules() if isinstance(m, (Attention, AttentionModuleMixin)))


def closure_objects(function: Any) -> Iterator[Any]:
    """The objects a (wrapped) function closes over: how monkey-patching libraries keep their state."""
    for cell in getattr(function, "__closure__", None) or ():
        try:
            yield cell.cell_contents
        except ValueError:  # empty cell
            continue


def deepcache_helper(pipe: Any) -> Any | None:
    """The DeepCacheSDHelper that wrapped this pipeline's UNet, if one is enabled.

    Follows wrappers of wrappers (another method may wrap `unet.forward` after DeepCache did)."""
    unet = getattr(pipe, "unet", None)
    pending = [unet.__dict__.get("forward")] if unet is not None else []
    seen: set[int] = set()
    while pending:
        function = pending.pop()
        if id(function) in seen or len(seen) > 32:
            continue
        seen.add(id(function))
        for obj in closure_objects(function):
            if type(obj).__name__ == "DeepCacheSDHelper" and hasattr(obj, "params"):
                return obj
            if callable(obj) and getattr(obj, "__closure__", None):
                pending.append(obj)
    return None


def deepcache_params(helper: Any) -> dict[str, Any]:
    p = helper.params
    return {"cache_interval": p["cache_interval"], "cache_branch_id": p["cache_block_id"] * 3 + p["cache_layer_id"]}


def tgate_loader(pipe: Any) -> str | None:
    """The tgate module whose `tgate()` is bound to this pipeline (e.g. 'tgate.SD', 'tgate.SD_DeepCache')."""
    bound = getattr(pipe, "tgate", None)
    module = getattr(getattr(bound, "__func__", None), "__module__", "") or ""
    return module if module.startswith("tgate.") else None


def tgate_deepcache_loader(pipe: Any) -> str | None:
    """The tgate loader if it is one of the combined T-GATE + DeepCache ones (tgate.SD_DeepCache, ...)."""
    loader = tgate_loader(pipe)
    return loader if loader is not None and loader.endswith("_DeepCache") else None


def parameter_dtype(module: nn.Module) -> torch.dtype | None:
    """The dtype most of the module's weights are in: a model may keep a few in float32 whatever it is loaded in
    (Wan's transformer keeps its norms and scale-shift table so, the first parameter among them)."""
    sizes: dict[torch.dtype, int] = {}
    for p in module.parameters():
        sizes[p.dtype] = sizes.get(p.dtype, 0) + p.numel()
    return max(sizes, key=lambda d: sizes[d]) if sizes else None


def hooks_named(module: nn.Module, name: str) -> list[Any]:
    """Every diffusers hook called `name` registered on `module` or its submodules."""
    found = []
    for sub in module.modules():
        registry = getattr(sub, "_diffusers_hook", None)
        hook = registry.hooks.get(name) if registry is not None else None
        if hook is not None:
            found.append(hook)
    return found


# --- effects: did a method change the computation of the call just traced? ----------------------------------
# A method's `detect.py` may define `effect(pipe, trace)` with `RULE` (the rule's name in a rejection) and
# `MEASURES` (what it measures, for docs/evaluation.md). It returns (took effect, evidence in words), or None
# when this call gives no evidence either way (a compiled denoiser's inside is not traced). A call in which the
# pipeline's own denoiser never ran is evidence against every method: the work was done by something else.

NEVER_RAN = "the pipeline's denoiser never ran during the call (another module did the work)"


def untraced(trace: Any) -> tuple[bool, str] | None:
    """(False, why) when the pipeline's denoiser never ran; None when it ran but only compiled (inside unseen)."""
    if not trace.denoiser_calls:
        return False, NEVER_RAN
    return None


def attention_skipped(trace: Any) -> tuple[bool, str] | None:
    """Some denoiser call of the image ran fewer attention calls than the call that ran the most."""
    counts = [c.attention_calls for c in trace.observable]
    if not counts:
        return untraced(trace)
    full, low = max(counts), min(counts)
    skipped = sum(c < full for c in counts)
    if skipped == 0:
        return False, f"every one of {len(counts)} denoiser calls ran all {full} attention calls: nothing was skipped"
    return True, f"{skipped} of {len(counts)} denoiser calls skipped attention ({low} of {full} calls at the least)"


def every_call(trace: Any, test: Any, what: str) -> tuple[bool, str] | None:
    """`test(call)` holds for every denoiser call of the image."""
    calls = trace.denoiser_calls
    if not calls:
        return False, NEVER_RAN
    failing = [i for i, c in enumerate(calls) if not test(c)]
    if failing:
        return False, f"{len(failing)} of {len(calls)} denoiser calls did not {what} (the first: call {failing[0]})"
    return True, f"all {len(calls)} denoiser calls {what}"


def pinned_kernels(trace: Any) -> list[str]:
    """The backends that some traced attention call had pinned (allowed alone)."""
    return sorted({next(iter(allowed)) for allowed in trace.attention_backends if len(allowed) == 1})


def single_kernel(trace: Any) -> str | None:
    """The one attention backend every traced attention call allowed, if there was exactly one."""
    if len(trace.attention_backends) != 1:
        return None
    (allowed,) = trace.attention_backends
    return next(iter(allowed)) if len(allowed) == 1 else None


def weights_of_class(pipe: Any, tensor_classes: tuple[str, ...]) -> int:
    """How many of the denoiser's layers hold a `weight` of one of `tensor_classes` (torchao's quantized tensors
    are torch.Tensor subclasses, so the class name tells int8 from float8 from a plain weight)."""
    module = denoiser(pipe)
    if module is None:
        return 0
    return sum(type(getattr(m, "weight", None)).__name__ in tensor_classes for m in module.modules())
