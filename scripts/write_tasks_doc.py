"""Writes docs/tasks.md from the packaged suites: what the 604 tasks cover (the paper's Figure 2 as tables), then
the same tables for the extended suite (FLUX.1, SD3.5, Qwen-Image; issue 17) and the video suite (Wan; issue 34).

Reproduce: `.venv/bin/python scripts/write_tasks_doc.py` (the suite itself: `diffbench tasks generate`).
"""

from __future__ import annotations

from pathlib import Path

from diffbench.tasks.schema import LEVEL_NAMES
from diffbench.tasks.stats import TITLES, stats
from diffbench.tasks.suite import suite

DOC = Path(__file__).resolve().parents[1] / "docs" / "tasks.md"

INTRO = (Path(__file__).parent / "templates" / "tasks_intro.md").read_text()  # the page's prose
EXTENDED = (Path(__file__).parent / "templates" / "tasks_extended.md").read_text()
VIDEO = (Path(__file__).parent / "templates" / "tasks_video.md").read_text()


def table(title: str, counts: dict[str, int], label=lambda k: k) -> str:
    total = sum(counts.values())
    rows = [f"| {label(k)} | {v} | {v / total:.0%} |" for k, v in counts.items()]
    return f"### {title}\n\n| {title} | tasks | share |\n|---|---|---|\n" + "\n".join(rows) + "\n"


def section(tasks: list, heading: str) -> list[str]:
    data = stats(tasks)
    parts = [f"{heading} ({data['total']} tasks)\n"]
    for key, title in TITLES.items():
        label = (lambda k: f"{k} ({LEVEL_NAMES[int(k)]})") if key == "by_level" else (lambda k: k)
        parts.append(table(title, data[key], label))
    parts.append("### One prompt per level\n")
    for level in range(1, 6):
        task = next(t for t in tasks if t.level == level)
        parts.append(f"- **{task.id}**: {task.prompt}\n")
    return parts


def render() -> str:
    """The whole of docs/tasks.md, from the suites."""
    parts = [INTRO, *section(list(suite("paper")), "## Coverage of the paper's suite")]
    parts += [EXTENDED, *section(list(suite("extended")), "## Coverage of the extended suite")]
    parts += [VIDEO, *section(list(suite("video")), "## Coverage of the video suite")]
    return "\n".join(parts)


def main() -> None:
    DOC.write_text(render())
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
