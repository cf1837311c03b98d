"""The speed-quality chart, drawn by one function for both reports: `diffbench report` (per task, every candidate
the solver measured and the judged module) and `diffagent solve` (every candidate of the run, by generation)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Point:
    speedup: float
    loss: float
    group: str = "candidates"  # the legend entry it is drawn under (e.g. its generation)


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"
    return plt


def speed_quality(
    points: Sequence[Point], *, target: float | None = None, bound: float | None = None,
    judged: Point | None = None, winner: Point | None = None, front: bool = False, title: str | None = None,
    size: tuple[float, float] = (3.6, 2.6), dpi: int = 100,
) -> Any:  # fmt: skip
    """L (%) against U (x): the points by group, optionally their Pareto front, the target and bound as lines, the
    judged module as a star and the winner circled. Returns the matplotlib figure (see `save`)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=size, dpi=dpi)
    small = size[0] < 5
    for group in dict.fromkeys(p.group for p in points):
        mine = [p for p in points if p.group == group]
        ax.scatter([p.speedup for p in mine], [100 * p.loss for p in mine], s=18 if small else None, alpha=0.75,
                   label=group)  # fmt: skip
    if front and points:
        line, best_loss = [], float("inf")
        for p in sorted(points, key=lambda p: -p.speedup):
            if p.loss < best_loss:
                line.append(p)
                best_loss = p.loss
        ax.plot([p.speedup for p in line], [100 * p.loss for p in line], "k--", lw=1, label="speed-quality front")
    if judged is not None:
        ax.scatter([judged.speedup], [100 * judged.loss], marker="*", s=120, color="black", label="judged")
    if winner is not None:
        ax.scatter([winner.speedup], [100 * winner.loss], s=180, facecolors="none", edgecolors="black",
                   label="winner")  # fmt: skip
    if target:
        ax.axvline(target, color="green", lw=1, label=f"target {target:.2f}x")
    if bound:
        ax.axhline(100 * bound, color="red", lw=1, label=f"bound {bound:.0%}")
    ax.set_ylim(bottom=0)  # no loss and no speedup are the reference points a reader compares against
    low, high = ax.get_xlim()
    ax.set_xlim(min(1.0, low), high + 0.06 * (high - min(1.0, low)))
    fontsize = 8 if small else None
    ax.set_xlabel("speedup U over the baseline (x)", fontsize=fontsize)
    ax.set_ylabel("quality loss L (%)", fontsize=fontsize)
    if title:
        ax.set_title(title, fontsize=9)
    if small:
        ax.tick_params(labelsize=7)
    ax.legend(fontsize=6 if small else 7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def save(fig: Any, path: Path | None = None) -> str | None:
    """Write the figure to `path` (its suffix picks the format) or, without one, return it as inline SVG."""
    plt = pyplot()
    try:
        if path is not None:
            fig.savefig(path)
            return None
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg")
        text = buffer.getvalue()
        return text[text.index("<svg") :]
    finally:
        plt.close(fig)
