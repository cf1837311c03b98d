"""`diffbench methods ...`: the acceleration knowledge base."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from diffbench.cli.console import console, err_console, friendly_errors, print_json
from diffbench.cli.options import DEFAULT, DeviceOption, JsonOption, ProfileOption, UnsafeOption, open_profile
from diffbench.knowledge import load_knowledge
from diffbench.models.families import family as family_by_key

app = typer.Typer(help="Acceleration methods: templates, parameters, compatibility, insights.", no_args_is_help=True)

FamilyOption = Annotated[str | None, typer.Option("--family", "-f", help="only methods that apply to this family")]


@app.command("list")
@friendly_errors
def list_methods(family: FamilyOption = None, as_json: JsonOption = False) -> None:
    """Every method with the families it applies to, its parameters and its declared conflicts."""
    kb = load_knowledge()
    if family is not None:
        family_by_key(family)  # a clear error for an unknown family
    methods = kb.for_family(family) if family else list(kb)
    if as_json:
        print_json([m.model_dump(mode="json", exclude={"templates"}) | {"families": list(m.families)} for m in methods])
        return
    table = Table(title="Acceleration methods" + (f" for {family}" if family else ""))
    for col in ("method", "category", "families", "parameters (default, range)", "conflicts / unsupported"):
        table.add_column(col, overflow="fold")
    for m in methods:
        params = "\n".join(f"{p.name}={p.default}" + (f" ({p.span})" if p.span else "") for p in m.parameters)
        limits = [f"conflicts {c.method}: {c.reason}" for c in m.conflicts]
        limits += [f"not {u.where}: {u.reason}" for u in m.unsupported]
        table.add_row(
            f"{m.key}\n({m.name})", m.category, ", ".join(m.families), params or "-", "\n".join(limits) or "-"
        )
    console.print(table)


@app.command()
@friendly_errors
def check(
    family: FamilyOption = None,
    profile: ProfileOption = DEFAULT,
    device: DeviceOption = None,
    unsafe_unconfined: UnsafeOption = False,
    as_json: JsonOption = False,
    method: Annotated[list[str] | None, typer.Option("--method", "-m", help="only these methods")] = None,
    reps: Annotated[int, typer.Option(help="interleaved timed repetitions per pair (median)")] = 3,
    record: Annotated[
        bool, typer.Option("--record", help="store the figures in the knowledge base's measured/")
    ] = False,
    sweep: Annotated[
        bool, typer.Option("--sweep", help="also run each parameter at both ends of its family's sensible range")
    ] = False,
) -> None:
    """Apply every template with its default parameters to its families' stand-ins, each pair in a sandboxed
    child; report ok, speedup against the family's 50-step baseline, and PSNR/SSIM against its image."""
    from diffbench.knowledge.check import check_methods, declared_pairs

    kb = load_knowledge()
    prof = open_profile(profile, device, unsafe_unconfined, loads_here=False)
    if family is not None:
        family_by_key(family)
    for key in method or []:
        kb.method(key)
    pairs = [p for p in declared_pairs(kb, family, prof.device) if not method or p[0] in method]
    elsewhere = sorted(set(declared_pairs(kb, family)) - set(declared_pairs(kb, family, prof.device)))
    skipped = [
        {"method": m, "family": f, "reason": f"declared for {'/'.join(kb.method(m).devices)} only"}
        for m, f in elsewhere
        if not method or m in method
    ]
    for row in skipped:
        err_console.print(f"  {row['method']} on {row['family']}: not run here, {row['reason']}", highlight=False)

    def progress(r) -> None:  # on stderr in every mode: --json keeps stdout clean for the data
        status = f"{r.speedup:.2f}x, {r.psnr_db:.1f} dB" if r.ok else f"FAILED: {r.error}"
        err_console.print(f"  {r.variant} on {r.family}: {status}", highlight=False)

    start = time.perf_counter()
    results = check_methods(kb, prof, pairs, reps=reps, sweep=sweep, on_result=progress)
    wall_s = time.perf_counter() - start
    all_ok = all(r.ok for r in results)
    if record:
        from diffbench.knowledge.check import record_results

        where = record_results(prof, results, reps, wall_s, sweep, family, method)
        err_console.print(f"recorded in {where}", highlight=False)
    if as_json:
        pairs_json = [r.model_dump() for r in results]
        print_json({**prof.facts(), "ok": all_ok, "wall_s": wall_s, "pairs": pairs_json, "skipped": skipped})
    else:
        table = Table(title=f"Methods check, {prof.describe()} (default parameters, median of {reps}, interleaved)")
        for col in ("method", "family", "steps", "speedup", "PSNR dB", "SSIM", "detected", "ok"):
            table.add_column(col, overflow="fold")
        for r in results:
            table.add_row(
                r.variant,
                r.family,
                f"{r.steps}" if r.steps else "-",
                f"{r.speedup:.2f}x" if r.speedup else "-",
                f"{r.psnr_db:.1f}" if r.psnr_db else "-",
                f"{r.ssim:.3f}" if r.ssim else "-",
                str(r.detected or "-"),
                "[green]ok[/]" if r.ok else f"[red]{r.error}[/]",
            )
        console.print(table)
        ok = sum(r.ok for r in results)
        console.print(f"{prof.describe()}: {ok}/{len(results)} pairs ok in {wall_s / 60:.1f} min", highlight=False)
    if not all_ok:
        raise typer.Exit(1)
