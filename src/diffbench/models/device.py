"""The device models run on: its name as torch spells it, whether this machine has it, and what it is.

The one place that describes the machine (CPU model or GPU name) for prompts, reports and benchmark docs.
"""

from __future__ import annotations

import functools
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


# The CPU instructions that make torch's kernels of each half precision fast: bf16 and fp16 are separate. An AMD
# EPYC with avx512_bf16 but no avx512_fp16 (2026-12-07, `x @ x` on 256x256): bf16 3.4x faster than fp32, fp16 75x
# slower; a 3x3 convolution 64->64 on 64x64: bf16 3.7x faster, fp16 190x slower.
HALF_PRECISION_CPU_FLAGS = {"bfloat16": ("avx512_bf16", "amx_bf16"), "float16": ("avx512_fp16", "amx_fp16")}
HALF_PRECISION_NAMES = {"bf16": "bfloat16", "fp16": "float16"}  # the methods' keys and torch's dtype names
# How much slower torch's CPU bf16/fp16 kernels ran than fp32 without those instructions (an AVX2-only AMD EPYC,
# 2026-11-28: `x @ x` on 256x256, docs/evaluation.md); the verdicts and reference runs that name the machine quote it.
HALF_PRECISION_CPU_SLOWDOWN = 75


@functools.cache  # read once a process: the judge, the searches and the descriptions all ask
def cpu_fast_half_precisions() -> frozenset[str]:
    """The half precisions ("bfloat16", "float16") this CPU has instructions for (AVX-512 BF16/FP16 or AMX).
    Without them torch's CPU kernels of that dtype run far slower than fp32 (75x on an AVX2-only AMD EPYC,
    2026-11-28), so a half-precision speedup measured on one CPU says nothing about another: the tiny-cpu targets
    were calibrated on a CPU that has them."""
    try:
        return half_precisions_in(Path("/proc/cpuinfo").read_text())
    except OSError:
        return frozenset()


def half_precisions_in(cpuinfo: str) -> frozenset[str]:
    """The half precisions whose instructions a /proc/cpuinfo text's first `flags` line names."""
    flags = re.search(r"^flags\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    have = set(flags.group(1).split()) if flags else set()
    return frozenset(dtype for dtype, names in HALF_PRECISION_CPU_FLAGS.items() if have & set(names))


def device_has_fast_half_precision(device: str, dtype: str | None = None) -> bool:
    """Whether `dtype` ("bf16"/"bfloat16", "fp16"/"float16"; None: both) runs at least as fast as fp32 on the
    device: a CUDA GPU, or a CPU with that dtype's instructions."""
    if is_cuda(device):
        return True
    wanted = set(HALF_PRECISION_CPU_FLAGS) if dtype is None else {HALF_PRECISION_NAMES.get(dtype, dtype)}
    return wanted <= cpu_fast_half_precisions()


def fast_half_precision_methods(device: str) -> frozenset[str]:
    """The half-precision methods' keys ("bf16", "fp16") whose dtype runs fast on the device."""
    return frozenset(k for k, dtype in HALF_PRECISION_NAMES.items() if device_has_fast_half_precision(device, dtype))


def _half_precision_words() -> str:
    fast = cpu_fast_half_precisions()
    if len(fast) == len(HALF_PRECISION_CPU_FLAGS):
        return "with bf16/fp16 instructions"
    if not fast:
        return "without bf16/fp16 instructions"
    has, lacks = ("bf16", "fp16") if "bfloat16" in fast else ("fp16", "bf16")
    return f"with {has} but without {lacks} instructions"


def describe_hardware(device: str) -> str:
    """What the device is, in words: 'an NVIDIA H200 (cuda:0)' or 'a 2-core AMD EPYC 7B13 CPU without bf16/fp16
    instructions' (on a CPU those decide every half-precision figure: bf16 on FLUX.1's stand-in ran 1.46x with
    AVX-512 BF16 and 0.06x on an AVX2-only CPU, 2026-11-28)."""
    if is_cuda(device):
        import torch

        if torch.cuda.is_available() and cuda_index(device) < torch.cuda.device_count():
            return f"an {torch.cuda.get_device_name(cuda_index(device))} ({device})"
        return f"a CUDA GPU ({device}, not visible here)"
    return f"a {os.cpu_count()}-core {cpu_model()} CPU {_half_precision_words()}"
