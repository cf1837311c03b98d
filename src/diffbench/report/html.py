"""The report as one self-contained HTML page: the tables, an error-mode chart, and per task the speed-quality
scatter of every candidate with the target marked and baseline-vs-accelerated image pairs. Charts are inline SVG
and images inline JPEG thumbnails, so the file can be mailed or archived alone. The figures also travel as JSON
in the page (`#report-data`), the same JSON `diffbench report --json` prints."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import jinja2

from diffbench.report.plots import Point, pyplot, save, speed_quality
from diffbench.report.summary import LEVELS, MODES, RunSummary, TaskFigures

TEMPLATES = Path(__file__).parent / "templates"
THUMB_PX = 112
MAX_PAIRS = 2


def error_chart(run: RunSummary) -> str | None:
    """Failed tasks per level, stacked by first error mode (the paper's Figure 4, in counts); None: no failure."""
    if all(lv.passed == lv.tasks for lv in run.levels):
        return None
    fig, ax = pyplot().subplots(figsize=(6.0, 2.8), dpi=100)
    levels = [lv for lv in run.levels]
    bottom = [0] * len(levels)
    for mode in MODES:
        counts = [lv.errors[mode] for lv in levels]
        if any(counts):
            ax.bar([f"L{lv.level}" for lv in levels], counts, bottom=bottom, label=mode.replace("_", " "))
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_ylabel("failed tasks")
    ax.set_title(f"error modes, {run.label}", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save(fig)


def scatter(task: TaskFigures) -> str | None:
    """Every candidate the solver measured (L against U), the judged module, the target and the bound."""
    points = [Point(c["speedup"], c["loss"], "agent's candidates") for c in task.candidates
              if c.get("speedup") is not None and c.get("loss") is not None]  # fmt: skip
    if not points and task.speedup is None:
        return None
    judged = None
    if task.speedup is not None and task.quality_loss is not None:
        judged = Point(task.speedup, task.quality_loss)
    return save(speed_quality(points, target=task.target_speedup, bound=task.delta, judged=judged))


def _thumb(path: Path) -> str | None:
    if not path.is_file():
        return None
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("RGB")
        img.thumbnail((THUMB_PX, THUMB_PX))
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def image_pairs(task: TaskFigures) -> list[dict[str, str | None]]:
    if not task.images_dir:
        return []
    base = Path(task.images_dir)
    pairs = []
    for pair in task.image_pairs[:MAX_PAIRS]:
        cand = _thumb(base / pair["candidate"]) if pair.get("candidate") else None
        if cand:
            pairs.append({"baseline": _thumb(base / pair["baseline"]) if pair.get("baseline") else None,
                          "candidate": cand})  # fmt: skip
    return pairs


def render_html(runs: list[RunSummary]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    data = [run.model_dump(mode="json") for run in runs]
    tasks = {
        run.run_dir: [
            {"figures": t, "scatter": scatter(t), "pairs": image_pairs(t)} for t in run.task_figures
        ]
        for run in runs
    }  # fmt: skip
    return env.get_template("report.html.j2").render(
        runs=runs, levels=LEVELS, modes=MODES, charts={r.run_dir: error_chart(r) for r in runs}, tasks=tasks,
        data_json=json.dumps(data).replace("</", "<\\/"),
    )  # fmt: skip
