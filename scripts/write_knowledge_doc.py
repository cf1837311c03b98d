"""Write docs/knowledge.md from the knowledge base and its recorded `methods check` figures.

    .venv/bin/diffbench methods check --record        # measures every pair, stores measured/tiny-cpu.json
    .venv/bin/python scripts/write_knowledge_doc.py    # renders this document from it

Measured (tiny-cpu) figures and published (GPU, real weights) figures are kept in separate sections: the
first say how a method behaves on this project's stand-ins and machine, the second what its authors report.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from diffbench.knowledge import load_knowledge
from diffbench.models.families import FAMILIES

DOC = Path(__file__).resolve().parent.parent / "docs" / "knowledge.md"


def parameters(method) -> str:
    parts = []
    for p in method.parameters:
        parts.append(f"`{p.name}`={p.default} ({p.span})" if p.span else f"`{p.name}`={p.default}")
    return "; ".join(parts) or "-"


def overview(kb) -> list[str]:
    lines = [
        "## Methods",
        "",
        "| method | category | families | parameters: default (range) | does not apply to |",
        "|---|---|---|---|---|",
    ]
    for m in kb:
        limits = "; ".join(f"{u.where}: {u.reason}" for u in m.unsupported) or "-"
        fams = ", ".join(FAMILIES[f].display for f in m.families)
        lines.append(f"| **{m.key}** ({m.name}) | {m.category} | {fams} | {parameters(m)} | {limits} |")
    conflicts = [(m.key, c) for m in kb for c in m.conflicts]
    lines += ["", "### Declared conflicts", ""]
    if conflicts:
        lines += ["| methods | why | test |", "|---|---|---|"]
        lines += [
            f"| {k} + {c.method} | {'inert: ' if c.inert else ''}{c.reason} | `tests/test_knowledge_combinations.py` |"
            for k, c in conflicts
        ]
    else:
        lines.append("None declared.")
    combos = [f"{m.key} + {other}" for m in kb for other in m.composes_with]
    lines += [
        "",
        "### Tested combinations",
        "",
        "Each runs together on a stand-in with both methods found on the built pipeline and both taking effect "
        "in the call (the judge's effect rules, docs/evaluation.md) "
        "(`tests/test_knowledge_combinations.py`): " + ", ".join(combos) + ".",
    ]
    return lines


def span(speedups: list[float], fast: bool) -> str:
    """The range of the speedups at or above 1x (`fast`) or below it, as the doc prints it."""
    chosen = sorted(u for u in speedups if (u >= 1.0) == fast)
    if not chosen:
        return "none recorded"
    return f"{chosen[0]:.2f}x" if len(chosen) == 1 else f"{chosen[0]:.2f}-{chosen[-1]:.2f}x"


def measured(kb, profile: str) -> list[str]:
    data = kb.measured(profile)
    if not data:
        return ["## Measured on `" + profile + "`", "", "Not recorded yet: run `diffbench methods check --record`."]
    defaults = [p for p in data["pairs"] if p.get("variant", p["method"]) == p["method"]]
    swept = [p for p in data["pairs"] if p.get("variant", p["method"]) != p["method"]]
    ok = sum(p["ok"] for p in defaults)
    history = data.get("runs") or [{"date": data["date"], "command": data["command"], "wall_s": data["wall_s"]}]
    runs = "; then ".join(
        f"`{r['command']}` on {r['date']} ({r['wall_s'] / 60:.1f} min"
        + (f", {r['hardware']}" if r.get("hardware") else "")
        + ")"
        + (f" ({r['note']})" if r.get("note") else "")
        for r in history
    )
    bf16 = [p["speedup"] for p in defaults if p["method"] == "bf16" and p["ok"]]
    lines = [
        f"## Measured on profile `{profile}` (tiny stand-ins, this machine's CPU)",
        "",
        f"Recorded by {runs}: {ok}/{len(defaults)} pairs ok at default parameters. Each family's pairs run in one "
        "sandboxed child (a pair whose child dies is re-run alone): the family's default checkpoint with its "
        "default scheduler at 50 steps (the baseline) against the same with the method at its default parameters, "
        f"median of {data['reps']} timed calls taken round-robin after one warm-up each, same seed and prompt; "
        "PSNR/SSIM of the method's image against the baseline's. Samplers run their own step count "
        "(column *steps*). These are stand-in figures: they show how a method behaves on this CPU, not what a real "
        "model on a GPU gains (next section). Half-precision figures depend on the CPU most of all: runs that name "
        f"no hardware predate that note. bf16 rows at or above 1x ({span(bf16, True)}) show a CPU with bf16 "
        f"instructions; rows below 1x ({span(bf16, False)}) an AVX2-only CPU, where the calibration's search space "
        "leaves bf16 out for that family (measured below 1.02x).",
        "",
        "| method | family | steps (baseline / method) | baseline s | method s | speedup | PSNR dB | SSIM | ok |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in defaults:
        if not p["ok"]:
            lines.append(f"| {p['method']} | {p['family']} | | | | | | | fails: {p['error']} |")
            continue
        lines.append(
            f"| {p['method']} | {FAMILIES[p['family']].display} | {p['steps']} / {p['method_steps']} | "
            f"{p['baseline_s']:.2f} | {p['method_s']:.2f} | {p['speedup']:.2f}x | {p['psnr_db']:.1f} | "
            f"{p['ssim']:.3f} | ok |"
        )
    if swept:
        lines += [
            "",
            "### Effect of each parameter (ends of its sensible range, others at default)",
            "",
            "Same runs as above (`--sweep`): each row changes one parameter; compare with the default row.",
            "",
            "| method | family | parameter | speedup | PSNR dB | SSIM | ok |",
            "|---|---|---|---|---|---|---|",
        ]
        for p in swept:
            changed = p["variant"][len(p["method"]) + 1 : -1]
            if not p["ok"]:
                lines.append(f"| {p['method']} | {p['family']} | {changed} | | | | fails: {p['error']} |")
                continue
            lines.append(
                f"| {p['method']} | {FAMILIES[p['family']].display} | {changed} | {p['speedup']:.2f}x | "
                f"{p['psnr_db']:.1f} | {p['ssim']:.3f} | ok |"
            )
    return lines


def side_by_side(kb, profile: str) -> list[str]:
    """The extended suite's families: each declared (method, family) pair's stand-in figures beside the method's
    published ones, and the methods that do not apply, with why."""
    from diffbench.models.families import families_of

    data = kb.measured(profile)
    pairs = data.get("pairs", []) if data else []
    lines = [
        "## The extended suite's families: measured here beside published",
        "",
        f"Stand-in figures (`{profile}`, this machine's CPU; `methods check --family F --sweep --record`): at the "
        "method's defaults, and the fastest of its swept settings with its PSNR. Published: the method's own "
        "figures (real weights, GPUs). The two are different experiments; the stand-ins show the method works and "
        "which way its parameters move speed and fidelity, not the speedup a real model gains.",
        "",
        "| method | family | tiny-cpu at defaults | tiny-cpu, fastest swept setting | published (source: setting) |",
        "|---|---|---|---|---|",
    ]
    for fam in families_of("extended"):
        for m in kb:
            mine = [p for p in pairs if p["family"] == fam.key and p["method"] == m.key]
            pub = (
                "; ".join(
                    f"{f.speedup:g}x ({f.source}: {f.setting})" if f.speedup else f"{f.source}: {f.setting}"
                    for f in m.published
                )
                or "-"
            )
            if fam.key not in m.families:
                reason = m.why_unsupported(fam.key) or ""
                if reason.startswith("no template"):
                    continue
                lines.append(f"| {m.key} | {fam.display} | does not apply: {reason} | - | {pub} |")
                continue
            default = next((p for p in mine if p.get("variant", m.key) == m.key), None)
            if default is None:
                cell = "not run here (" + "/".join(m.devices) + " only)" if profile.endswith("cpu") else "-"
                lines.append(f"| {m.key} | {fam.display} | {cell} | - | {pub} |")
                continue
            fmt = "{speedup:.2f}x, {psnr_db:.1f} dB"
            at_default = fmt.format(**default) if default["ok"] else f"fails: {default['error']}"
            swept = [p for p in mine if p["ok"] and p.get("variant", m.key) != m.key]
            best = max(swept, key=lambda p: p["speedup"], default=None)
            at_best = f"{best['variant'][len(m.key) + 1 : -1]}: " + fmt.format(**best) if best else "-"
            lines.append(f"| {m.key} | {fam.display} | {at_default} | {at_best} | {pub} |")
    return lines


def published(kb) -> list[str]:
    lines = [
        "## Published figures (real weights, GPUs; not measured here)",
        "",
        "| method | source | hardware | setting | speedup | quality |",
        "|---|---|---|---|---|---|",
    ]
    for m in kb:
        for f in m.published:
            speed = f"{f.speedup:g}x" if f.speedup else "-"
            lines.append(f"| {m.key} | {f.source} | {f.hardware} | {f.setting} | {speed} | {f.quality or '-'} |")
    return lines


def render(profile: str) -> str:
    """The whole of docs/knowledge.md, from the knowledge base and its recorded figures."""
    kb = load_knowledge()
    text = [
        "# Knowledge base",
        "",
        "One folder per method under `src/diffbench/knowledge/methods/`: `method.yaml` (parameters, compatibility,",
        "insights, published figures), `templates/*.py.j2` (the code that applies it, per family or backbone) and",
        "`detect.py` (finds it on a built pipeline). DiffBench composes reference solutions from it, DiffAgent's",
        "coder copies from it and its planner reads the insights. Regenerate this page with",
        "`.venv/bin/python scripts/write_knowledge_doc.py` after `diffbench methods check --record`",
        "(`--method KEY` checks only some methods).",
        "",
        *overview(kb),
        "",
        *side_by_side(kb, profile),
        "",
        *measured(kb, profile),
        "",
        *published(kb),
        "",
    ]
    return "\n".join(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="tiny-cpu")
    args = parser.parse_args()
    DOC.write_text(render(args.profile))
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
