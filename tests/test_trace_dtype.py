"""The tracer reads a denoiser's weight dtype on every call without walking its parameters each time: the count of
all weights is redone only when the largest weight's dtype moved, so a cast made after the pipeline was built (in
generate, between calls) is still seen, and a model keeping its small norms in float32 reads as its weights' dtype."""

from types import SimpleNamespace

import torch
from torch import nn

from diffbench.evaluation.trace import Tracer


class Denoiser(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(8)  # small, first: Wan keeps its norms in float32
        self.proj = nn.Linear(8, 64)
        self.out = nn.Linear(64, 8)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        x = self.norm(hidden_states.float()).to(self.proj.weight.dtype)
        return self.out(self.proj(x))


def _dtypes_seen(tracer: Tracer, denoiser: Denoiser) -> list[str | None]:
    tracer.begin()
    denoiser(torch.zeros(1, 4, 8))
    return [c.dtype for c in tracer.end().denoiser_calls]


def test_a_cast_between_calls_is_seen_and_the_weights_majority_decides():
    denoiser = Denoiser()
    tracer = Tracer()
    tracer.attach(SimpleNamespace(transformer=denoiser))
    counted = []
    tracer._dtype_of = lambda module: counted.append(module) or _majority(module)  # count the full walks
    assert _dtypes_seen(tracer, denoiser) == ["float32"]
    assert _dtypes_seen(tracer, denoiser) == ["float32"] and len(counted) == 1  # the second call walks nothing
    denoiser.proj.to(torch.bfloat16)
    denoiser.out.to(torch.bfloat16)  # the norm stays float32, as Wan's does
    assert _dtypes_seen(tracer, denoiser) == ["bfloat16"] and len(counted) == 2
    denoiser.to(torch.float32)
    assert _dtypes_seen(tracer, denoiser) == ["float32"] and len(counted) == 3


def _majority(module: nn.Module) -> torch.dtype | None:
    from diffbench.knowledge.detection import parameter_dtype

    return parameter_dtype(module)
