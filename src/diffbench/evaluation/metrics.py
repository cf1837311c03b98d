"""The paper's relative metrics (equations 1 and 2) and the hard-task achievement rate."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import fmean

from diffbench.errors import DiffbenchError


class MetricUndefinedError(DiffbenchError, ValueError):
    """A paper metric that cannot be computed from these figures (e.g. L over a baseline that scores 0)."""


def quality_loss(base_scores: Sequence[float], acc_scores: Sequence[float]) -> float:
    """L = mean(S_base - S_acc) / mean(S_base), over the same N samples (equation 1)."""
    if len(base_scores) != len(acc_scores) or not base_scores:
        raise ValueError("L needs the same, non-zero number of baseline and accelerated scores")
    base = fmean(base_scores)
    if base <= 0:
        raise MetricUndefinedError(
            f"L is undefined for a baseline whose mean score is not positive (mean {base:.3g}); a random-weight "
            "CLIP (stand-ins) scores 0 on every image: judge stand-ins by fidelity (--profile tiny-cpu or tiny-cuda)"
        )
    return (base - fmean(acc_scores)) / base


def speedup(base_seconds: Sequence[float], acc_seconds: Sequence[float]) -> float:
    """U = mean(T_base) / mean(T_acc), over the same N samples (equation 2)."""
    if len(base_seconds) != len(acc_seconds) or not base_seconds:
        raise ValueError("U needs the same, non-zero number of baseline and accelerated times")
    acc = fmean(acc_seconds)
    if acc <= 0:
        raise ValueError("U is undefined for non-positive accelerated times")
    return fmean(base_seconds) / acc


def achievement(speedup_found: float, speedup_required: float) -> float:
    """S_a = min(U / U_req, 1) for a hard task."""
    if speedup_required <= 0:
        raise ValueError("a required speedup must be positive")
    return min(speedup_found / speedup_required, 1.0)
