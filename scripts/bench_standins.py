"""Benchmark the tiny-cpu stand-ins and write the result into docs/benchmarks.md.

    .venv/bin/python scripts/bench_standins.py            # full size: 5 repetitions, 3 ladder prompts
    .venv/bin/python scripts/bench_standins.py --reps 2 --prompts 1 --no-write   # quick look

Measures (1) per checkpoint, the 50-step time at its real resolution (one warm-up call excluded,
median of N with min-max), and (2) the fidelity ladder on SD1.5 (PSNR/SSIM against the 50-step DDIM output).
Builds the stand-ins first if they are missing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import time
from pathlib import Path

from diffbench.models.device import cpu_model
from diffbench.models.loading import activate
from diffbench.models.profiles import get_profile

PROFILE = get_profile("tiny-cpu")
activate(PROFILE)  # before diffusers is imported: the hub reads its cache location at import

import diffusers  # noqa: E402
import torch  # noqa: E402

from diffbench.evaluation.fidelity_ladder import LADDER_PROMPTS, ladder, strictly_decreasing  # noqa: E402
from diffbench.images import synthetic_photo  # noqa: E402
from diffbench.models.families import FAMILIES  # noqa: E402
from diffbench.models.loading import default_resolution, generation_kwargs, load_pipeline  # noqa: E402
from diffbench.models.standins.build import build_standins  # noqa: E402
from doc_sections import publish  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- standins:begin -->", "<!-- standins:end -->"


def time_checkpoints(reps: int) -> list[dict]:
    rows = []
    for fam in FAMILIES.values():
        conditioning = fam.plain_conditioning
        for n, ck in enumerate(fam.checkpoints):
            pipe = load_pipeline(ck.id, conditioning, PROFILE)
            resolution = default_resolution(ck.id, PROFILE)
            image = synthetic_photo(resolution)
            pipe(**generation_kwargs(ck.id, conditioning, resolution, 50, seed=0, image=image))  # warm-up
            times = []
            for rep in range(reps):
                kwargs = generation_kwargs(ck.id, conditioning, resolution, 50, seed=rep, image=image)
                start = time.perf_counter()
                pipe(**kwargs)
                times.append(time.perf_counter() - start)
            rows.append(
                {
                    "family": fam.display,
                    "id": ck.id,
                    "family_default": n == 0,
                    "conditioning": str(conditioning),
                    "resolution": resolution,
                    "median_s": statistics.median(times),
                    "min_s": min(times),
                    "max_s": max(times),
                    "reps": reps,
                }
            )
            print(f"{ck.id}: median {rows[-1]['median_s']:.2f} s", flush=True)
    return rows


def machine() -> str:
    cpu = cpu_model()
    return (
        f"{cpu}, {torch.get_num_threads()} torch threads, Python {platform.python_version()}, "
        f"torch {torch.__version__}, diffusers {diffusers.__version__}"
    )


def render(timings: list[dict], rungs: dict, reps: int, prompts: int) -> str:
    today = datetime.date.today().isoformat()
    lines = [
        BEGIN,
        "## Tiny stand-ins (profile `tiny-cpu`)",
        "",
        f"Measured {today} on {machine()}.",
        f"Reproduce: `make bench` (or `.venv/bin/python scripts/bench_standins.py --reps {reps} --prompts {prompts}`).",
        "",
        f"### 50-step time at the checkpoint's resolution (median of {reps} after one warm-up call, min-max)",
        "",
        "| family | id | conditioning | resolution | median s | min-max s |",
        "|---|---|---|---|---|---|",
    ]
    for r in timings:
        fam = f"**{r['family']}**" if r["family_default"] else r["family"]
        lines.append(
            f"| {fam} | `{r['id']}` | {r['conditioning']} | {r['resolution']} px | {r['median_s']:.2f} | "
            f"{r['min_s']:.2f}-{r['max_s']:.2f} |"
        )
    lines += [
        "",
        "Bold: the family's default checkpoint. Text-to-image runs use classifier-free guidance (two denoiser",
        "passes per step), as the pipelines do by default.",
        "",
        f"### Fidelity ladder on SD1.5 (mean over {prompts} prompt(s), seed i for prompt i)",
        "",
        "Reference: the same stand-in with DDIMScheduler at 50 steps. PSNR in dB (8-bit), SSIM over RGB.",
        "",
        "| setting | PSNR dB | SSIM |",
        "|---|---|---|",
    ]
    for name, ladder_rungs in rungs.items():
        for rung in ladder_rungs:
            lines.append(f"| {rung.setting} | {rung.psnr_db:.2f} | {rung.ssim:.4f} |")
        verdict = "strictly decreasing" if strictly_decreasing(ladder_rungs) else "NOT strictly decreasing"
        lines.append(f"| *{name.replace('_', ' ')}: PSNR {verdict}* | | |")
    lines += [
        "",
        "SSIM saturates near 1.0 above about 50 dB, so PSNR is the finer gauge of small departures.",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--prompts", type=int, default=len(LADDER_PROMPTS))
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing the doc")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    build_standins(PROFILE)
    timings = time_checkpoints(args.reps)
    rungs = ladder(PROFILE, LADDER_PROMPTS[: args.prompts])
    section = render(timings, rungs, args.reps, args.prompts)
    if args.json:
        raw = {
            "profile": PROFILE.name,
            "timings": timings,
            "ladder": {k: [r.__dict__ for r in v] for k, v in rungs.items()},
        }
        args.json.write_text(json.dumps(raw, indent=2))
    publish(DOC, BEGIN, END, section, args.no_write)


if __name__ == "__main__":
    main()
