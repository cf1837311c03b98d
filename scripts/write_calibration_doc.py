"""Write docs/calibration.md's figures from the committed calibration record of a profile (no measuring).

.venv/bin/diffbench calibrate --profile tiny-cpu      # measures, writes tasks/data/calibration/tiny-cpu.json
.venv/bin/python scripts/write_calibration_doc.py     # renders it into docs/calibration.md
.venv/bin/python scripts/write_calibration_doc.py --old OLD.json   # and the record it replaced, side by side
"""

from __future__ import annotations

import argparse
from pathlib import Path

from diffbench.calibration.store import TIMING_TOLERANCE, CalibrationRecord, read_record
from diffbench.tasks.schema import Difficulty
from doc_sections import write_section

DOC = Path(__file__).resolve().parent.parent / "docs" / "calibration.md"


def render(profile: str) -> str:
    begin, end = f"<!-- calibration-{profile}:begin -->", f"<!-- calibration-{profile}:end -->"
    record = read_record(profile)
    if record is None:
        return "\n".join([begin, f"Profile `{profile}`: not calibrated yet.", end])
    cals = list(record.baselines.values())
    measured = [t for c in cals for t in c.trials]
    failed = [t for t in measured if t.error]
    minutes = sum(c.seconds for c in cals) / 60
    mediums = [c.targets(Difficulty.MEDIUM, record.platform) for c in cals]
    low = min((m.speedup for m in mediums if m), default=None)
    lines = [
        begin,
        f"## Profile `{profile}`",
        "",
        f"Recorded {record.date} by `{record.command}` on {record.platform}: {len(cals)} baselines, "
        f"{len(measured)} measured trials ({len(failed)} failed to run), {minutes:.0f} min of searching. Sigma "
        f"{record.sigma:.0%}; {record.samples} validation inputs per trial (seeded, the same for every trial).",
        "",
        "| baseline (model, conditioning, sampler, steps) | baseline s | best configuration | L | U* | "
        "tolerance U / latency | targets easy / medium / hard | latency medium | s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, cal in record.baselines.items():
        targets = {d: cal.targets(d, record.platform) for d in Difficulty}
        speedups = " / ".join(f"{t.speedup:.2f}x" for t in targets.values() if t) or "-"
        medium = targets[Difficulty.MEDIUM]
        lines.append(
            f"| {key.replace('|', ', ')} | {cal.baseline_s or 0:.2f} | {cal.best_describe or 'nothing within sigma'} | "
            + (f"{cal.loss:.1%}" if cal.loss is not None else "-")
            + " | "
            + (f"{cal.speedup:.2f}" if cal.speedup is not None else "-")
            + " | "
            + cal.describe_tolerances()
            + f" | {speedups} | "
            + (f"{medium.latency_s:.2f} s" if medium else "-")
            + f" | {cal.seconds:.0f} |"
        )
    # Baselines searched by another command or on another machine than the record's, grouped.
    others: dict[tuple[str, str], list[str]] = {}
    for key, cal in record.baselines.items():
        if cal.command or cal.platform:
            others.setdefault((cal.command or record.command, cal.platform or record.platform), []).append(key)
    stable = [key for key, cal in record.baselines.items() if cal.has_stability_runs]
    lines += [
        "",
        f"Lowest medium speedup target: {low:.2f}x." if low is not None else "No targets.",
        f"Tolerance: {TIMING_TOLERANCE:.0%} (the judge's documented bound) unless the best configuration's stability "
        f"runs spread wider; {len(stable)} of {len(cals)} baselines have stability runs"
        + (f" ({', '.join(k.split('|')[0] for k in stable)})." if stable else "."),
        *(
            f"Searched by `{command}` on {platform} instead: {', '.join(k.split('|')[0] for k in keys)}."
            for (command, platform), keys in others.items()
        ),
        end,
    ]
    return "\n".join(lines)


def _targets(record: CalibrationRecord, key: str) -> tuple[str, str, str]:
    """U*, the speedup targets easy / medium / hard, and the medium latency of one baseline in one record."""
    cal = record.baselines.get(key)
    if cal is None or cal.speedup is None:
        return "-", "-", "-"
    targets = [cal.targets(d, record.platform) for d in Difficulty]
    medium = cal.targets(Difficulty.MEDIUM, record.platform)
    return (f"{cal.speedup:.2f}", " / ".join(f"{t.speedup:.2f}" for t in targets if t),
            f"{medium.latency_s:.2f} s" if medium else "-")  # fmt: skip


def render_old_new(profile: str, old_path: Path) -> str:
    """Per baseline: the replaced record's U* and targets beside the current record's."""
    begin, end = f"<!-- calibration-{profile}-old-new:begin -->", f"<!-- calibration-{profile}-old-new:end -->"
    new = read_record(profile)
    old = CalibrationRecord.model_validate_json(old_path.read_text())
    assert new is not None
    keys = [k for k in new.baselines if k in old.baselines]  # the baselines both records searched
    higher = [k for k in keys if (new.baselines[k].speedup or 0) >= (old.baselines[k].speedup or 0)]
    ratios = sorted((new.baselines[k].speedup or 0) / old.baselines[k].speedup for k in keys
                    if k in old.baselines and old.baselines[k].speedup)  # fmt: skip
    lines = [
        begin,
        f"## Old and new targets per baseline (`{profile}`)",
        "",
        f"Old: `{old.command}` ({old.search}; {old.trials} trials, {old.samples} samples), recorded {old.date} on "
        f"{old.platform}. New: `{new.command}` ({new.search}; {new.trials} screened trials, {new.samples} samples), "
        f"recorded {new.date} on {new.platform}, {sum(c.seconds for c in new.baselines.values()) / 60:.0f} min of "
        "searching. A U* is a ratio measured on one machine; where the machines differ, so may the ratios. "
        "Rendered by `python scripts/write_calibration_doc.py --old OLD.json`.",
        "",
        f"New U* >= old U* on **{len(higher)} of {len(keys)}** baselines; new/old U* median "
        f"{ratios[len(ratios) // 2]:.2f}, range {ratios[0]:.2f}-{ratios[-1]:.2f}."
        if ratios
        else "No common baselines.",
        "",
        "| baseline | old U* | new U* | old targets easy / medium / hard | new targets easy / medium / hard | "
        "old / new medium latency |",
        "|---|---|---|---|---|---|",
    ]
    for key in keys:
        (ou, ot, ol), (nu, nt, nl) = _targets(old, key), _targets(new, key)
        lines.append(f"| {key.replace('|', ', ')} | {ou} | {nu} | {ot} | {nt} | {ol} / {nl} |")
    lines.append(end)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="tiny-cpu")
    parser.add_argument("--old", type=Path, help="a calibration record this profile's record replaced")
    args = parser.parse_args()
    begin, end = f"<!-- calibration-{args.profile}:begin -->", f"<!-- calibration-{args.profile}:end -->"
    write_section(DOC, begin, end, render(args.profile), head="# Calibration of level-4/5 targets\n")
    if args.old:
        section = render_old_new(args.profile, args.old)
        write_section(DOC, section.splitlines()[0], section.splitlines()[-1], section)
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
