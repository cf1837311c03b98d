"""The device check's summary as Markdown (for docs/gpu.md): one row per step with its exit code, time and the
figures its JSON output holds (verdict, L, U, harness overhead, sandbox), then the fp16 diagnosis.

    python scripts/gpu_check_summary.py OUT_DIR > OUT_DIR/summary.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def figures(name: str, data: Any) -> str:
    """The few figures that say whether a step did what it should."""
    if not isinstance(data, dict):
        return ""
    if "stages" in data:  # a judge result
        verdict = "PASSED" if data["passed"] else f"FAILED ({', '.join(data['error_modes'])})"
        parts = [verdict]
        if data.get("quality_loss") is not None:
            parts.append(f"L {data['quality_loss']:.2%}, U {data['speedup']:.2f}x")
        quality = next((s for s in data["stages"] if s["name"] == "absolute quality"), None)
        if quality and "mean_score" in quality["figures"]:
            parts.append(f"quality {quality['figures']['mean_score']:.3f}")
        if data.get("harness_overhead_s") is not None:
            parts.append(f"overhead {data['harness_overhead_s']:.1f} s of {data['seconds']:.1f} s")
        parts.append(f"sandbox {data.get('sandbox', {}).get('namespaces', '-')}")
        problem = next((p for s in data["stages"] for p in s["problems"]), None)
        return "; ".join(parts) + (f"; {problem[:120]}" if problem else "")
    if "models" in data:
        ok = sum(m["ok"] for m in data["models"])
        return f"{ok}/{len(data['models'])} ok"
    if "pairs" in data:  # a methods check
        rows = [
            f"{r['variant']} on {r['family']}: "
            + (f"{r['speedup'] or 0:.2f}x, {r['psnr_db'] or 0:.1f} dB" if r["ok"] else f"FAILED {str(r['error'])[:60]}")
            for r in data["pairs"]
        ]
        return "; ".join(rows)
    if "baselines" in data:
        return "; ".join(f"{k}: U* {v.get('speedup')}" for k, v in data["baselines"].items())
    return ""


def main() -> None:
    out = Path(sys.argv[1])
    device = (out / "device.txt").read_text().strip() if (out / "device.txt").is_file() else "unknown device"
    lines = [f"Device: {device}.", "", "| step | pass | rc | s | figures |", "|---|---|---|---|---|"]
    for row in (out / "steps.tsv").read_text().splitlines():
        name, run, rc, seconds = row.split("\t")
        data = _json(out / f"{name}.out")
        if rc == "125":
            data_text = "skipped: past the check's deadline"
        elif name.startswith("solve"):
            report = out / name / "report.md"
            text = report.read_text() if report.is_file() else ""
            result = next((ln for ln in text.splitlines() if ln.startswith("- **Result:**")), "no report")
            data_text = result.removeprefix("- **Result:** ")[:160]
        else:
            data_text = figures(name, data)
        lines.append(f"| {name} | {run} | {rc} | {seconds} | {data_text.replace('|', '/')} |")
    diagnosis = _json(out / "fp16.json")
    if diagnosis:
        anchor = diagnosis["anchor_db_for_L_1pct"]
        lines += ["", f"fp16 diagnosis on {diagnosis['device']} (L2-012's setting; PSNR for L = 1%: {anchor} dB):", ""]
        header = "| setting | PSNR dB | fidelity | max UNet output | max VAE input | non-finite | error |"
        lines += [header, "|---" * 7 + "|"]
        for r in diagnosis["rows"]:
            lines.append(
                f"| {r['setting']} | {r.get('psnr_db', '-')} | {r.get('fidelity', '-')} | "
                f"{r.get('unet_out', 0):.3g} | {r.get('vae_in', 0):.3g} | {r.get('nonfinite', 0):.0f} | "
                f"{r.get('error', '')} |"
            )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
