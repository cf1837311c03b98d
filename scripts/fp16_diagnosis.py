"""Why an fp16 pipeline loses fidelity on a stand-in: fp16 against fp32 on the same device, the same input and seed,
with the usual suspects switched one at a time (reduced-precision reductions in fp16 matmuls, the attention kernel,
bf16 instead of fp16), the largest activations fp32 reaches (fp16 overflows at 65504) and the smallest non-zero
weights (fp16 flushes below 6e-8), and the PSNR of each against the checkpoint's fidelity scale (the L = 1% anchor).

    python scripts/fp16_diagnosis.py --device cuda --json out.json     # the GPU check runs this
    python scripts/fp16_diagnosis.py --device cpu                      # the same on the CPU (fp16 kernels there
                                                                       # compute in fp32 internally)
The setting is L2-012's: SD1.5 stand-in, image-to-image, DPM-Solver++ 30 steps, strength 0.75.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import Any

from diffbench.models.loading import activate
from diffbench.models.profiles import get_profile

MODEL_ID = "stable-diffusion-v1-5/stable-diffusion-v1-5"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", default=None, help="write the figures here too")
    args = parser.parse_args()
    profile = get_profile("tiny-cuda" if args.device.startswith("cuda") else "tiny-cpu", args.device)
    profile.require_device()
    activate(profile)

    import torch
    from diffusers import DPMSolverMultistepScheduler

    from diffbench.evaluation.inputs import draw_inputs
    from diffbench.evaluation.quality import fidelity, fidelity_scale
    from diffbench.images import synthetic_photo
    from diffbench.models.families import Conditioning
    from diffbench.models.loading import default_resolution, generation_kwargs, load_pipeline

    resolution = default_resolution(MODEL_ID, profile)
    photo = draw_inputs(Conditioning.IMAGE, 3, seed=11)[0]
    scale = fidelity_scale(MODEL_ID)

    def run(dtype: str, attention: Any = None, reduced: bool | None = None) -> tuple[Any, dict[str, float]]:
        pipe = load_pipeline(MODEL_ID, Conditioning.IMAGE, profile, dtype=dtype)
        pipe.scheduler = DPMSolverMultistepScheduler.from_config(pipe.scheduler.config, algorithm_type="dpmsolver++")
        peaks = {"unet_out": 0.0, "vae_in": 0.0, "nonfinite": 0.0}

        def track(key: str):
            def hook(_module, inputs, output):
                value = output[0] if isinstance(output, tuple) else getattr(output, "sample", output)
                source = (inputs[0] if key == "vae_in" else value).detach()
                finite = torch.isfinite(source)
                peaks["nonfinite"] += float((~finite).sum())  # inf or NaN: fp16 overflowed somewhere before here
                peaks[key] = max(peaks[key], float(source[finite].abs().max()) if finite.any() else float("inf"))

            return hook

        pipe.unet.register_forward_hook(track("unet_out"))
        pipe.vae.decoder.register_forward_hook(track("vae_in"))
        image_in = synthetic_photo(resolution, seed=photo.image_seed or 0)
        kwargs = generation_kwargs(MODEL_ID, Conditioning.IMAGE, resolution, 30, seed=3, prompt=photo.prompt,
                                   image=image_in)  # fmt: skip
        old = torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction
        if reduced is not None:
            torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = reduced
        context = torch.nn.attention.sdpa_kernel(attention) if attention is not None else contextlib.nullcontext()
        try:
            with context, torch.no_grad():
                image = pipe(**kwargs).images[0]
        finally:
            torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = old
        smallest = min(float(p.detach().abs()[p != 0].min()) for p in pipe.unet.parameters() if p.numel() and p.any())
        return image, {**peaks, "smallest_unet_weight": smallest}

    reference, peaks32 = run("float32")
    rows: list[dict[str, Any]] = [{"setting": "float32 (the baseline)", **peaks32}]
    from torch.nn.attention import SDPBackend

    settings: list[tuple[str, dict[str, Any]]] = [
        ("float16", {"dtype": "float16"}),
        ("float16, SDPA math kernel", {"dtype": "float16", "attention": SDPBackend.MATH}),
        ("bfloat16", {"dtype": "bfloat16"}),
    ]
    if args.device.startswith("cuda"):
        settings.insert(1, ("float16, no reduced-precision reductions", {"dtype": "float16", "reduced": False}))
    for name, options in settings:
        try:
            image, peaks = run(**options)
            db, score = fidelity(reference, image, scale)
            rows.append({"setting": name, "psnr_db": round(db, 2), "fidelity": round(score, 3), **peaks})
        except Exception as err:  # a setting this device cannot run is a finding, not a crash
            rows.append({"setting": name, "error": f"{type(err).__name__}: {err}"[:200]})
    figures = {
        "device": profile.device,
        "scale": {"midpoint_db": scale.midpoint_db, "width_db": scale.width_db},
        "anchor_db_for_L_1pct": round(scale.midpoint_db + 4.595 * scale.width_db, 2),
        "rows": rows,
    }
    for row in rows:
        print(json.dumps(row))
    print(json.dumps({k: v for k, v in figures.items() if k != "rows"}))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    sys.exit(main())
