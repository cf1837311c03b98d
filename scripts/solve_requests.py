"""Plain requests as users write them, each run through `diffagent solve` (offline heuristic planner), with what
the report says was understood and what came out. Writes a section of docs/agent.md.

    .venv/bin/python scripts/solve_requests.py               # every row, profile tiny-cpu, one at a time
    .venv/bin/python scripts/solve_requests.py --only 3 --no-write
"""

from __future__ import annotations

import argparse
import datetime
import re
import subprocess
import sys
import time
from pathlib import Path

from doc_sections import publish

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "agent.md"
BEGIN, END = "<!-- requests:begin -->", "<!-- requests:end -->"
ROWS: list[tuple[str, str | None]] = [
    ("Our SDXL service uses EulerDiscreteScheduler with 40 steps at 1024 px; we need 2.5x.", None),
    ("PixArt-Alpha at 1024 with 25 DPM-Solver++ steps; about 1.4x please.", None),
    ("SD 2.1 base, 50 DDIM steps: make latency 30% lower.", None),
    ("img2img on SD1.5 with strength 0.5, DDIM 40 steps: 2x.", None),
    ("SDXL, DDIM 30 steps: put DeepCache and T-GATE on it and report how much faster it got.", None),
    ("SD1.5, DDIM 50 steps, 50x speedup with exactly 0% quality loss.", None),
    ("make it 2x faster with at most 5% quality loss", "examples/my_sdxl.py"),
]


def section(report: str, title: str) -> list[str]:
    """The bullet lines under a '## title' heading of report.md."""
    match = re.search(rf"## {title}\n\n(.*?)(?:\n## |\Z)", report, flags=re.S)
    return [ln[2:] for ln in match.group(1).splitlines() if ln.startswith("- ")] if match else []


def run(i: int, request: str, baseline: str | None, out_root: Path) -> dict:
    out = out_root / f"row-{i}"
    cmd = [str(Path(sys.executable).parent / "diffagent"), "solve", request, "--profile", "tiny-cpu", "--out", str(out)]
    if baseline:
        cmd += ["--baseline", str(HERE / baseline)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    report = (out / "report.md").read_text() if (out / "report.md").is_file() else ""
    understood = section(report, "What was understood")
    outcome = [ln for ln in section(report, "Outcome") if ln.startswith(("**Result", "**Note", "**Cost"))]
    if not report:
        outcome = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()][-1:]
    print(f"row {i}: rc {done.returncode}, {seconds:.0f} s", flush=True)
    return {"request": request, "baseline": baseline, "rc": done.returncode, "seconds": seconds,
            "understood": understood, "outcome": outcome, "module": (out / "solution.py").is_file()}  # fmt: skip


def render(rows: list[dict]) -> str:
    lines = [
        BEGIN,
        "## Plain requests, read as stated",
        "",
        f"Measured {datetime.date.today()} with `.venv/bin/python scripts/solve_requests.py` (profile `tiny-cpu`, "
        "stand-ins on this machine's CPU, heuristic planner (no LLM), one run at a time). Each request as a user "
        "wrote it; what report.md says was understood (its first lines, also the first lines `diffagent solve` "
        "prints and all that `--dry-run` prints), then the outcome.",
        "",
    ]
    for i, r in enumerate(rows):
        via = f" with `--baseline scripts/{r['baseline']}`" if r["baseline"] else ""
        lines += [f"{i + 1}. \"{r['request']}\"{via}: exit {r['rc']}, {r['seconds']:.0f} s, "
                  f"{'a module' if r['module'] else 'no module'}"]  # fmt: skip
        lines += [f"   - {ln}" for ln in r["understood"] + r["outcome"]]
    lines.append(END)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", type=int, action="append", help="row numbers (1-based)")
    parser.add_argument("--out", type=Path, default=Path("out/requests"))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    picked = [(i, r) for i, r in enumerate(ROWS) if not args.only or i + 1 in args.only]
    rows = [run(i, request, baseline, args.out) for i, (request, baseline) in picked]
    publish(DOC, BEGIN, END, render(rows), args.no_write)


if __name__ == "__main__":
    main()
