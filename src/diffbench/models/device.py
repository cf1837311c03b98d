"""The device models run on: its name as torch spells it, whether this machine has it, and what it is.

The one place that describes the machine (CPU model or GPU name) for prompts, reports and benchmark docs.
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

from diffbench.errors import DiffbenchError

DEVICE_PATTERN = re.compile(r"^(cpu|cuda(:\d+)?)$")


class DeviceUnavailableError(DiffbenchError, RuntimeError):
    """A profile or --device names a device this machine does not have."""


def validate_device(device: str) -> str:
    """`cpu`, `cuda` or `cuda:N`; anything else is one clear error."""
    if not DEVICE_PATTERN.match(device):
        raise DeviceUnavailableError(f"unknown device {device!r}; use cpu, cuda or cuda:N (e.g. cuda:1)")
    return device


def is_cuda(device: str) -> bool:
    return device.startswith("cuda")


def cuda_index(device: str) -> int:
    return int(device.split(":", 1)[1]) if ":" in device else 0


def require_device(device: str, profile_name: str) -> None:
    """Raise one line naming what is missing when `device` is not usable here (CPU always is)."""
    validate_device(device)
    if not is_cuda(device):
        return
    import torch

    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
        raise DeviceUnavailableError(
            f"profile {profile_name!r} runs on {device}, but this machine has no usable CUDA device (torch "
            f"{torch.__version__}, {build}); use --profile tiny-cpu, or --device cpu to run this profile's code "
            "on the CPU"
        )
    count = torch.cuda.device_count()
    if cuda_index(device) >= count:
        raise DeviceUnavailableError(
            f"profile {profile_name!r}: device {device} does not exist; this machine has {count} CUDA device(s) "
            f"(cuda:0 to cuda:{count - 1})"
        )


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what `platform` knows."""
    try:
        if m := re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text()):
            return m.group(1).strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


HALF_PRECISION_CPU_FLAGS = ("avx512_bf16", "amx_bf16", "avx512_fp16")
# How much slower torch's CPU bf16/fp16 kernels ran than fp32 without those instructions (an AVX2-only AMD EPYC,
# 2026-11-28: `x @ x` on 256x256, docs/evaluation.md); the verdicts and reference runs that name the machine quote it.
HALF_PRECISION_CPU_SLOWDOWN = 75


def cpu_has_fast_half_precision() -> bool:
    """Whether this CPU has bf16/fp16 instructions (AVX-512 BF16/FP16 or AMX). Without them torch's CPU bf16/fp16
    kernels run far slower than fp32 (75x on an AVX2-only AMD EPYC, 2026-11-28), so a half-precision speedup
    measured on one CPU says nothing about another: the tiny-cpu targets were calibrated on a CPU that has them."""
    try:
        flags = re.search(r"^flags\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    except OSError:
        return False
    return bool(flags) and any(f in flags.group(1).split() for f in HALF_PRECISION_CPU_FLAGS)


def device_has_fast_half_precision(device: str) -> bool:
    """Whether bf16/fp16 runs at least as fast as fp32 on the device: a CUDA GPU, or a CPU with the instructions."""
    return is_cuda(device) or cpu_has_fast_half_precision()


def describe_hardware(device: str) -> str:
    """What the device is, in words: 'an NVIDIA H200 (cuda:0)' or 'a 2-core AMD EPYC 7B13 CPU without bf16/fp16
    instructions' (on a CPU those decide every half-precision figure: bf16 on FLUX.1's stand-in ran 1.46x with
    AVX-512 BF16 and 0.06x on an AVX2-only CPU, 2026-11-28)."""
    if is_cuda(device):
        import torch

        if torch.cuda.is_available() and cuda_index(device) < torch.cuda.device_count():
            return f"an {torch.cuda.get_device_name(cuda_index(device))} ({device})"
        return f"a CUDA GPU ({device}, not visible here)"
    half = "with" if cpu_has_fast_half_precision() else "without"
    return f"a {os.cpu_count()}-core {cpu_model()} CPU {half} bf16/fp16 instructions"
