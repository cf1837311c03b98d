"""Measure the tiny-cpu fidelity scale of every checkpoint, and show how it judges known settings.

First, for every checkpoint's stand-in, the anchors: PSNR of DDIM at 25 and at 5 steps against DDIM at 50 steps
(mean over the prompts); they set the checkpoint's logistic (quality.FidelityScale.from_anchors), written to
src/diffbench/evaluation/data/fidelity_scale.json. Then, on each family's default checkpoint (plain conditioning,
its real resolution) against DDIM at 50 steps, each setting below is composed from the knowledge base, run on the
same prompts and seeds, and compared with the baseline image (PSNR, SSIM). Settings are labelled *moderate* (real
models lose well under 5% CLIP score with them: DeepCache interval 3, T-GATE, DPM-Solver++ at 25 steps, ...) or
*over* (a handful of steps, stacked aggressive caching). The table goes into docs/quality.md between markers, with
the score mapping's verdict for each setting.

    .venv/bin/python scripts/measure_fidelity_scale.py            # 3 prompts, writes the scale and the doc
    .venv/bin/python scripts/measure_fidelity_scale.py --prompts 1 --no-write
    .venv/bin/python scripts/measure_fidelity_scale.py --only Qwen/Qwen-Image   # one new checkpoint, merged

A video checkpoint (Wan) is anchored on its own scheduler (UniPC, flow) at half and a tenth of the card's steps,
at the stand-in's frame size and frame count, each video's PSNR as quality.video_fidelity takes it. Its family's
settings rows wait for the methods on Wan (issue 34).

The record keeps each family's rows as well as the scales, so a run with `--only` (a checkpoint added since)
measures that checkpoint alone, merges it, and the doc's table is rendered from the whole record.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import tempfile
from pathlib import Path

from diffbench.models.loading import activate
from diffbench.models.profiles import get_profile

PROFILE = get_profile("tiny-cpu")
activate(PROFILE)

from diffbench.evaluation.fidelity_ladder import LADDER_PROMPTS  # noqa: E402
from diffbench.evaluation.quality import ANCHORS, SCALE_FILE, FidelityScale, output_psnr, pair_fidelity  # noqa: E402
from diffbench.images import synthetic_photo  # noqa: E402
from diffbench.knowledge import load_knowledge  # noqa: E402
from diffbench.knowledge.compose import Applied, compose  # noqa: E402
from diffbench.models.families import FAMILIES  # noqa: E402
from diffbench.models.loading import default_video_shape  # noqa: E402
from diffbench.models.standins.build import build_standins  # noqa: E402
from diffbench.solution_module import write_and_import  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs" / "quality.md"
BEGIN, END = "<!-- fidelity:begin -->", "<!-- fidelity:end -->"

# (label, kind, methods): kind is "moderate" or "over".
UNET = [
    ("DeepCache interval 3", "moderate", [("ddim", {"num_inference_steps": 50}), ("deepcache", {"cache_interval": 3})]),
    ("T-GATE gate_step 10 (25 steps)", "moderate", [("ddim", {"num_inference_steps": 25}), ("tgate", {})]),
    ("DPM-Solver++ 25 steps", "moderate", [("dpm_solver", {"num_inference_steps": 25})]),
    ("DPM-Solver++ 20 steps", "moderate", [("dpm_solver", {"num_inference_steps": 20})]),
    ("DDIM 25 steps", "moderate", [("ddim", {"num_inference_steps": 25})]),
    ("ToMe ratio 0.5", "moderate", [("ddim", {"num_inference_steps": 50}), ("tome", {"ratio": 0.5})]),
    ("UniPC 5 steps", "over", [("unipc", {"num_inference_steps": 5})]),
    ("DDIM 5 steps", "over", [("ddim", {"num_inference_steps": 5})]),
    (
        "DeepCache 10 + ToMe 0.75, DDIM 10 steps",
        "over",
        [("ddim", {"num_inference_steps": 10}), ("deepcache", {"cache_interval": 10}), ("tome", {"ratio": 0.75})],
    ),
]
TRANSFORMER = [
    ("DPM-Solver++ 25 steps", "moderate", [("dpm_solver", {"num_inference_steps": 25})]),
    ("DPM-Solver++ 20 steps", "moderate", [("dpm_solver", {"num_inference_steps": 20})]),
    ("DDIM 25 steps", "moderate", [("ddim", {"num_inference_steps": 25})]),
    ("PAB spatial_skip 2", "moderate", [("ddim", {"num_inference_steps": 50}), ("pab", {"spatial_skip": 2})]),
    ("UniPC 5 steps", "over", [("unipc", {"num_inference_steps": 5})]),
    ("DDIM 5 steps", "over", [("ddim", {"num_inference_steps": 5})]),
    (
        "PAB 8 + FirstBlockCache 0.5, DDIM 10 steps",
        "over",
        [
            ("ddim", {"num_inference_steps": 10}),
            ("pab", {"spatial_skip": 8, "timestep_low": 0, "timestep_high": 1000}),
            ("first_block_cache", {"threshold": 0.5}),
        ],
    ),
]
# The flow-matching families (extended suite), against the flow-matching Euler sampler at the model card's steps;
# "{half}" and the like are filled with fractions of those steps.
FLOW = [
    ("Euler at half the steps", "moderate", [("flow_euler", {"num_inference_steps": "half"})]),
    ("TaylorSeer interval 3", "moderate", [("taylorseer_cache", {"cache_interval": 3})]),
    ("PAB spatial_skip 2", "moderate", [("pab", {"spatial_skip": 2})]),
    ("Euler at a tenth of the steps", "over", [("flow_euler", {"num_inference_steps": "tenth"})]),
    (
        "TaylorSeer interval 8, Euler at a quarter of the steps",
        "over",
        [("flow_euler", {"num_inference_steps": "quarter"}), ("taylorseer_cache", {"cache_interval": 8})],
    ),
]
FRACTIONS = {"half": 0.5, "quarter": 0.25, "tenth": 0.1}


def anchor_steps(card: int | None, video: bool = False) -> tuple[str | None, int, int, int]:
    """(sampler, full, moderate, over) steps of a checkpoint's anchors: DDIM 50/25/5 for the paper's families, the
    flow-matching Euler sampler at the model card's steps, a half and a tenth of them for the extended ones; a
    video checkpoint's own scheduler (sampler None) at the same fractions."""
    if card is None:
        return "ddim", 50, 25, 5
    return None if video else "flow_euler", card, max(1, round(card / 2)), max(1, round(card / 10))


def with_steps(methods: list, card: int) -> list:
    return [
        (k, {n: max(1, round(card * FRACTIONS[v])) if isinstance(v, str) else v for n, v in params.items()})
        for k, params in methods
    ]


PIXART_EXTRA = [("T-GATE gate_step 10 (25 steps)", "moderate", [("ddim", {"num_inference_steps": 25}), ("tgate", {})])]


def run(source: str, folder: Path, prompts: list[str], label: int) -> list:
    """Each prompt's output (an image, or a video's frames): seed i, and photo i where the pipeline takes one."""
    module = write_and_import(source, folder / f"m{abs(hash(source)) % 10**8}.py")
    pipe = module.load_pipeline("cpu")
    return [
        module.generate(pipe, {"seed": i, "prompt": p, "class_label": label, "image": synthetic_photo(448, seed=i)})[0]
        for i, p in enumerate(prompts)
    ]


def mean_psnr(base: list, outputs: list) -> float:
    return statistics.fmean(output_psnr(b, o) for b, o in zip(base, outputs, strict=True))


def measure_anchors(n_prompts: int, folder: Path, only: list[str] | None = None) -> dict[str, dict]:
    """Per checkpoint: the anchors' PSNR against the full-step image and the logistic through them."""
    kb = load_knowledge()
    prompts = LADDER_PROMPTS[:n_prompts]
    store = PROFILE.store
    scales = {}
    for fam in FAMILIES.values():
        for ck in fam.checkpoints:
            if only and ck.id not in only:
                continue
            cond = fam.plain_conditioning
            sampler, full, half, tenth = anchor_steps(ck.steps, cond.video)
            width, height, frames = default_video_shape(ck.id, PROFILE) if cond.video else (None, ck.resolution, None)

            def sample(steps: int, ck=ck, cond=cond, sampler=sampler, shape=(width, height, frames)) -> list:
                applied = [Applied(sampler, {"num_inference_steps": steps})] if sampler else []
                source = compose(kb, ck.id, cond, shape[1], steps, applied, width=shape[0], frames=shape[2])
                return run(source, folder, prompts, 207)

            base = sample(full)
            moderate, over = mean_psnr(base, sample(half)), mean_psnr(base, sample(tenth))
            scale = FidelityScale.from_anchors(moderate, over)
            scales[ck.id] = {
                "moderate_db": round(moderate, 3),
                "over_db": round(over, 3),
                "midpoint_db": round(scale.midpoint_db, 3),
                "width_db": round(scale.width_db, 3),
                "standin_revision": store.revision(ck.id),
            }
            sampler = sampler or "own scheduler"
            print(f"{ck.id:45s} {sampler}-{half} {moderate:6.2f} dB  {sampler}-{tenth} {over:6.2f} dB", flush=True)
    return scales


def measure(n_prompts: int, folder: Path, scales: dict[str, dict], only: list[str] | None = None) -> list[dict]:
    kb = load_knowledge()
    prompts = LADDER_PROMPTS[:n_prompts]
    rows = []
    for fam in FAMILIES.values():
        ck = fam.default
        if only and ck.id not in only:
            continue
        cond = fam.plain_conditioning
        if cond.video:
            print(f"{fam.display}: anchors only; its settings wait for the methods on Wan (issue 34)", flush=True)
            continue
        settings = UNET if fam.backbone == "unet" else TRANSFORMER + (PIXART_EXTRA if "pixart" in fam.key else [])
        sampler, full, _, _ = anchor_steps(ck.steps)
        if ck.steps is not None:
            settings = [(label, kind, with_steps(methods, ck.steps)) for label, kind, methods in FLOW]
        scale = FidelityScale(scales[ck.id]["midpoint_db"], scales[ck.id]["width_db"])

        def source(methods: list, ck=ck, cond=cond, full=full) -> str:
            return compose(kb, ck.id, cond, ck.resolution, full, [Applied(k, p) for k, p in methods])

        base = run(source([(sampler, {"num_inference_steps": full})]), folder, prompts, 207)
        for label, kind, methods in settings:
            refused = [k for k, _ in methods if kb.method(k).why_unsupported(fam.key, str(cond))]
            if refused:  # e.g. PAB on Qwen-Image: the knowledge base says why it does not apply
                print(f"{fam.display:13s} {label:45s} skipped: {', '.join(refused)} does not apply", flush=True)
                continue
            images = run(source(methods), folder, prompts, 207)
            pairs = [pair_fidelity(b, i) for b, i in zip(base, images, strict=True)]
            values = [p.psnr_db for p in pairs]
            rows.append(
                {
                    "family": fam.display,
                    "setting": label,
                    "kind": kind,
                    "psnr": statistics.fmean(values),
                    "ssim": statistics.fmean(p.ssim for p in pairs),
                    "loss": 1 - statistics.fmean(scale.score(v) for v in values),
                }
            )
            print(f"{fam.display:13s} {label:45s} {rows[-1]['psnr']:6.2f} dB  L={rows[-1]['loss']:.1%}", flush=True)
    return rows


def render(rows: list[dict], n_prompts: int, scales: dict[str, dict], date: str, merged: list[dict]) -> str:
    runs = "; ".join(f"`{m['command']}` ({m['date']})" for m in merged)
    later = f" Measured later and merged, each replacing its checkpoint's rows: {runs}." if merged else ""
    lines = [
        BEGIN,
        f"Measured {date} with `scripts/measure_fidelity_scale.py --prompts {n_prompts}` (profile "
        "`tiny-cpu`). Baseline: DDIM 50 steps (the paper's families) or the flow-matching Euler sampler at the model "
        "card's steps (FLUX.1, SD3.5, Qwen-Image) or a video checkpoint's own scheduler at the card's steps (Wan: "
        "UniPC, flow; the stand-in's frame count; each video's PSNR the lower of its frames' and its motion's, "
        "quality.video_fidelity), at each checkpoint's real resolution; mean over "
        f"{n_prompts} prompt(s), seed i for prompt i. Score: per-checkpoint logistic in PSNR through the anchors "
        f"{ANCHORS['moderate'][0]} (L = {ANCHORS['moderate'][1]:.0%}) and {ANCHORS['over'][0]} "
        f"(L = {ANCHORS['over'][1]:.0%}) - for the flow-matching families half and a tenth of the card's steps; "
        f"L = 1 - mean score.{later}",
        "",
        "Anchors and scales (every checkpoint):",
        "",
        "| checkpoint | moderate anchor dB | over anchor dB | midpoint dB | width dB |",
        "|---|---|---|---|---|",
        *(
            f"| {mid} | {e['moderate_db']:.2f} | {e['over_db']:.2f} | {e['midpoint_db']:.2f} | {e['width_db']:.2f} |"
            for mid, e in scales.items()
        ),
        "",
        "Known settings on each family's default checkpoint:",
        "",
        "| family | setting | kind | PSNR dB | SSIM | L | within 5%? |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        verdict = "yes" if r["loss"] <= 0.05 else "no"
        lines.append(
            f"| {r['family']} | {r['setting']} | {r['kind']} | {r['psnr']:.2f} | {r['ssim']:.4f} | {r['loss']:.1%} "
            f"| {verdict} |"
        )
    moderate = [r["loss"] for r in rows if r["kind"] == "moderate"]
    over = [r["loss"] for r in rows if r["kind"] == "over"]
    lines += [
        "",
        f"Moderate settings: L from {min(moderate):.1%} to {max(moderate):.1%}; over-acceleration: L from "
        f"{min(over):.1%} to {max(over):.1%}.",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--only", action="append", help="measure this checkpoint only and merge it (repeatable)")
    args = parser.parse_args()
    build_standins(PROFILE)
    with tempfile.TemporaryDirectory() as tmp:
        scales = measure_anchors(args.prompts, Path(tmp), args.only)
        rows = measure(args.prompts, Path(tmp), scales, args.only)
    command = f".venv/bin/python scripts/measure_fidelity_scale.py --prompts {args.prompts}"
    stored: dict = {"date": datetime.date.today().isoformat(), "command": command}
    merged: list[dict] = []
    if args.only:  # merge into the stored record: its other checkpoints and their families' rows stay
        stored = json.loads(SCALE_FILE.read_text())
        measured = {r["family"] for r in rows}
        scales = {**stored["checkpoints"], **scales}
        rows = [r for r in stored.get("settings", []) if r["family"] not in measured] + rows
        order = [f.display for f in FAMILIES.values()]
        rows.sort(key=lambda r: order.index(r["family"]))
        only = command + "".join(f" --only {m}" for m in args.only)
        earlier = [m for m in stored.get("merged", []) if m["command"] != only]  # re-measured: listed once
        merged = [*earlier, {"command": only, "date": datetime.date.today().isoformat()}]
    block = render(rows, args.prompts, scales, stored["date"], merged)
    if args.no_write:
        print(block)
        return
    SCALE_FILE.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "profile": PROFILE.name,
        "date": stored["date"],
        "command": stored["command"],
        "merged": merged,
        "anchors": {kind: {"setting": setting, "loss": loss} for kind, (setting, loss) in ANCHORS.items()},
        "checkpoints": scales,
        "settings": rows,
    }
    SCALE_FILE.write_text(json.dumps(record, indent=1) + "\n")
    text = DOC.read_text() if DOC.is_file() else "# Quality on the tiny-cpu profile\n\n" + BEGIN + "\n" + END + "\n"
    head, rest = text.split(BEGIN, 1)
    DOC.write_text(head + block + rest.split(END, 1)[1])
    print(f"wrote {SCALE_FILE} and {DOC}", file=sys.stderr)


if __name__ == "__main__":
    main()
