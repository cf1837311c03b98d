"""What the denoiser computed during one `generate()` call, seen from outside the solution's code.

The judge's effect rules read this trace: a method a module claims must have changed the computation (attention
skipped, tokens merged, the fused projection used, one attention kernel allowed, the precision and memory format
the denoiser computed in, compiled graphs). The tracer wraps `torch.nn.functional.scaled_dot_product_attention`
before the solution is imported and hooks the built pipeline's denoiser after `load_pipeline`; both children of a
timing run carry the same probes, so their cost falls on baseline and candidate alike.

Inside code that torch.compile traces, nothing is recorded (`torch.compiler.is_compiling()`): a compiled
denoiser's calls are counted, but what happens inside them is not observable here, and the trace says so.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

SDPA_BACKENDS = {
    "flash": torch.backends.cuda.flash_sdp_enabled,
    "efficient": torch.backends.cuda.mem_efficient_sdp_enabled,
    "math": torch.backends.cuda.math_sdp_enabled,
    "cudnn": torch.backends.cuda.cudnn_sdp_enabled,
}
FUSED_PROJECTIONS = ("to_qkv", "to_kv", "to_added_qkv")


@dataclass
class DenoiserCall:
    batch: int | None
    dtype: str | None  # of the denoiser's parameters when it was called
    channels_last: bool | None  # its first convolution's weight, when it has one
    latent: tuple[int, int] | None
    compiled: bool  # the call went through a torch.compile wrapper
    attention_calls: int = 0
    fused_projection_calls: int = 0
    probes: dict[str, Any] = field(default_factory=dict)  # method key -> what its probe saw after the call
    denoiser: str = ""  # the pipeline attribute called: unet, transformer, or transformer_2 (Wan 2.2 A14B)


@dataclass
class CallTrace:
    denoiser_calls: list[DenoiserCall] = field(default_factory=list)
    attention_backends: list[frozenset[str]] = field(default_factory=list)  # distinct sets of backends allowed
    self_attention_tokens: set[int] = field(default_factory=set)  # query lengths where query and key match
    compiled_graphs: int = 0  # graphs torch.compile has built in this process so far

    @property
    def observable(self) -> list[DenoiserCall]:
        """The denoiser calls whose inside was traced (not compiled)."""
        return [c for c in self.denoiser_calls if not c.compiled]

    def grid_tokens(self) -> set[int]:
        """Token counts a UNet or transformer sees without merging: the latent grid at each down-sampling."""
        counts: set[int] = set()
        for call in self.denoiser_calls:
            if call.latent is not None:
                h, w = call.latent
                counts.update(math.ceil(h / 2**k) * math.ceil(w / 2**k) for k in range(6))
        return counts

    def summary(self) -> dict[str, Any]:
        calls = self.observable
        return {
            "denoiser_calls": len(self.denoiser_calls),
            "calls_per_denoiser": dict(Counter(c.denoiser for c in self.denoiser_calls)),
            "compiled_calls": len(self.denoiser_calls) - len(calls),
            "attention_calls": [c.attention_calls for c in calls],
            "batches": sorted({c.batch for c in self.denoiser_calls if c.batch is not None}),
            "dtypes": sorted({c.dtype for c in self.denoiser_calls if c.dtype}),
            "fused_projection_calls": sum(c.fused_projection_calls for c in calls),
            "attention_backends": [sorted(b) for b in self.attention_backends],
            "compiled_graphs": self.compiled_graphs,
        }


def _compiling() -> bool:
    return torch.compiler.is_compiling()


def _compiled_graphs() -> int:
    try:
        from torch._dynamo.utils import counters
    except ImportError:  # pragma: no cover - dynamo ships with every supported torch
        return 0
    return int(counters["stats"]["unique_graphs"])


class Tracer:
    def __init__(self) -> None:
        self.trace: CallTrace | None = None
        self._open: list[DenoiserCall] = []
        self._installed = False
        self._first_conv: dict[str, nn.Conv2d | None] = {}  # per denoiser, by pipeline attribute
        self._denoisers: dict[str, nn.Module] = {}
        self._dtype_of: Any = None  # detection.parameter_dtype, imported where the pipeline is attached
        # Per denoiser: its largest parameter's name, and (that parameter's dtype, the weights' majority dtype) when
        # last counted. A call reads the one parameter's dtype and counts all weights again only when it changed
        # (a cast moves the largest weight too), so the hook walks no parameter list per call.
        self._largest: dict[str, str] = {}
        self._dtypes: dict[str, tuple[torch.dtype, torch.dtype | None]] = {}
        self._probes: dict[str, Any] = {}
        self._via_wrapper = False

    # ---- probes ---------------------------------------------------------------------------------------------
    def install(self) -> None:
        """Wrap torch's scaled_dot_product_attention; call before the solution imports anything."""
        if self._installed:
            return
        original = torch.nn.functional.scaled_dot_product_attention
        tracer = self

        def traced_sdpa(query: Any, key: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
            if tracer._open and not _compiling():
                tracer._record_attention(query, key)
            return original(query, key, value, *args, **kwargs)

        torch.nn.functional.scaled_dot_product_attention = traced_sdpa
        self._installed = True

    def attach(self, pipe: Any, probes: dict[str, Any] | None = None) -> None:
        """Hook every denoiser of the built pipeline (Wan 2.2 A14B has two experts): the module the pipeline calls
        and, when that is a torch.compile wrapper, the module inside it (a call that bypasses the wrapper is then
        seen as not compiled). `probes`: method key -> `probe(denoiser)`, run after every denoiser call on the
        denoiser that was called (methods' `detect.py`), so a method on one expert only is seen missing on the
        other's calls."""
        from diffbench.knowledge.detection import parameter_dtype, raw_denoisers

        self._dtype_of = parameter_dtype

        self._probes = dict(probes or {})
        for name, called in raw_denoisers(pipe):
            inner = getattr(called, "_orig_mod", called)
            if not isinstance(inner, nn.Module):
                continue
            self._denoisers[name] = inner
            sizes = {n: p.numel() for n, p in inner.named_parameters()}
            if sizes:
                self._largest[name] = max(sizes, key=sizes.__getitem__)
            self._dtypes.pop(name, None)
            self._first_conv[name] = next((m for m in inner.modules() if isinstance(m, nn.Conv2d)), None)
            if called is not inner:
                called.register_forward_pre_hook(lambda m, a, k, n=name: self._enter(n, a, k, True), with_kwargs=True)
                called.register_forward_hook(lambda m, a, out, n=name: self._leave(n, True))
            inner.register_forward_pre_hook(lambda m, a, k, n=name: self._enter(n, a, k, False), with_kwargs=True)
            inner.register_forward_hook(lambda m, a, out, n=name: self._leave(n, False))
            for module in inner.modules():
                for attr in FUSED_PROJECTIONS:
                    projection = module.__dict__.get("_modules", {}).get(attr)
                    if isinstance(projection, nn.Module):
                        projection.register_forward_hook(lambda m, a, out: self._record_fused())

    def _weights_dtype(self, name: str) -> torch.dtype | None:
        """The dtype most of the denoiser's weights are in now (detection.parameter_dtype), recounted only when its
        largest parameter's dtype moved since the last count."""
        module = self._denoisers[name]
        if name not in self._largest:
            return self._dtype_of(module)
        try:
            marker = module.get_parameter(self._largest[name]).dtype
        except AttributeError:  # the parameter was replaced by something else: count every weight
            return self._dtype_of(module)
        seen = self._dtypes.get(name)
        if seen is None or seen[0] != marker:
            seen = (marker, self._dtype_of(module))
            self._dtypes[name] = seen
        return seen[1]

    def _enter(self, name: str, args: tuple, kwargs: dict, compiled: bool) -> None:
        if self.trace is None or _compiling() or (self._via_wrapper and not compiled):
            return
        self._via_wrapper = compiled
        sample = args[0] if args else kwargs.get("sample", kwargs.get("hidden_states"))
        is_tensor = isinstance(sample, torch.Tensor)
        dtype = self._weights_dtype(name)
        first_conv = self._first_conv[name]
        weight = first_conv.weight if first_conv is not None else None
        call = DenoiserCall(
            batch=int(sample.shape[0]) if is_tensor and sample.dim() >= 1 else None,
            dtype=str(dtype).removeprefix("torch.") if dtype is not None else None,
            channels_last=(
                bool(weight.is_contiguous(memory_format=torch.channels_last)) and not weight.is_contiguous()
                if weight is not None
                else None
            ),
            # (height, width) of an image latent (B, C, H, W) or a video one (B, C, frames, H, W)
            latent=(int(sample.shape[-2]), int(sample.shape[-1])) if is_tensor and sample.dim() in (4, 5) else None,
            compiled=compiled,
            denoiser=name,
        )
        self.trace.denoiser_calls.append(call)
        self._open.append(call)

    def _leave(self, name: str, compiled: bool) -> None:
        if not self._open or _compiling() or (self._via_wrapper and not compiled):
            return
        self._via_wrapper = False
        call = self._open.pop()
        for key, probe in self._probes.items():
            try:
                call.probes[key] = probe(self._denoisers[name])
            except Exception as err:  # a probe must not break the solution's call
                call.probes[key] = f"probe failed: {type(err).__name__}: {err}"

    def _record_attention(self, query: Any, key: Any) -> None:
        assert self.trace is not None
        self._open[-1].attention_calls += 1
        allowed = frozenset(name for name, on in SDPA_BACKENDS.items() if on())
        if allowed not in self.trace.attention_backends:
            self.trace.attention_backends.append(allowed)
        if isinstance(query, torch.Tensor) and isinstance(key, torch.Tensor) and query.shape[-2] == key.shape[-2]:
            self.trace.self_attention_tokens.add(int(query.shape[-2]))

    def _record_fused(self) -> None:
        if self._open and not _compiling():
            self._open[-1].fused_projection_calls += 1

    # ---- one call -------------------------------------------------------------------------------------------
    def begin(self) -> None:
        self.trace = CallTrace()
        self._open, self._via_wrapper = [], False

    def end(self) -> CallTrace:
        trace = self.trace or CallTrace()
        trace.compiled_graphs = _compiled_graphs()
        self.trace, self._open, self._via_wrapper = None, [], False
        return trace


TRACER = Tracer()  # one per worker process
