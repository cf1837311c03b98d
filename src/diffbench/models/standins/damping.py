"""Damping of random weights, so that a random denoiser behaves like a trained one under acceleration.

With raw random initialisation the sampling trajectory is chaotic: any change of settings (even DDIM 30 vs 50
steps) lands on an unrelated image, so fidelity to the baseline carries no signal. Scaling down the
denoiser's output projection and every cross-attention output makes the trajectory smooth; fidelity to the
50-step output then falls steadily as settings get more aggressive (measured in docs/benchmarks.md).
"""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def scale_module(module: nn.Module, factor: float) -> None:
    for p in module.parameters():
        p.mul_(factor)


@torch.no_grad()
def damp_denoiser(denoiser: nn.Module, output_names: tuple[str, ...], output: float, cross_attention: float) -> None:
    """Scale the named output layers by `output` and each cross-attention output (`attn2.to_out.0`)."""
    modules = dict(denoiser.named_modules())
    for name in output_names:
        scale_module(modules[name], output)
    for name, module in modules.items():
        if name.endswith("attn2.to_out.0"):
            scale_module(module, cross_attention)


@torch.no_grad()
def wake_zero_convs(controlnet: nn.Module, hint_std: float, residual_std: float) -> None:
    """ControlNet zero-initialises the last conv of its conditioning embedding and its output convolutions, so
    an untrained one ignores its control image. Give them random weights instead: `hint_std` sets how strongly
    the control image enters, `residual_std` how strongly the ControlNet steers the UNet."""
    # Default conv init shrinks the signal at each of the embedding's layers, so that the hint arrives as
    # almost nothing whatever its last conv does: re-initialise them to preserve variance.
    for module in controlnet.controlnet_cond_embedding.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    controlnet.controlnet_cond_embedding.conv_out.weight.normal_(0.0, hint_std)
    for name, module in controlnet.named_modules():
        if isinstance(module, nn.Conv2d) and (
            name.startswith("controlnet_down_blocks") or name == "controlnet_mid_block"
        ):
            module.weight.normal_(0.0, residual_std)
            module.bias.zero_()
