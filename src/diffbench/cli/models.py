"""`diffbench models ...`: the registry, building the offline stand-ins, and checking that every id loads."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from diffbench.cli.console import console, err_console, friendly_errors, print_json, quiet_transformers
from diffbench.cli.options import DEFAULT, DeviceOption, JsonOption, ProfileOption, UnsafeOption, open_profile
from diffbench.models.check import CheckRow, check_models
from diffbench.models.families import FAMILIES, QUALITY_MODEL_ID
from diffbench.models.profiles import get_profile

app = typer.Typer(help="Model families, offline stand-ins and load checks.", no_args_is_help=True)


@app.command("list")
@friendly_errors
def list_models(profile: ProfileOption = DEFAULT, as_json: JsonOption = False) -> None:
    """The model-family registry: real ids, pipelines, defaults, and whether each id is available."""
    prof = get_profile(profile)
    rows = []
    for fam in FAMILIES.values():
        for ck in fam.checkpoints:
            rows.append(
                {
                    "family": fam.display,
                    "id": ck.id,
                    "conditionings": [str(c) for c in fam.conditionings],
                    "pipelines": {str(c): p for c, p in fam.pipelines.items()},
                    "resolution": ck.resolution,
                    **({"size": f"{ck.width}x{ck.resolution}", "frames": ck.frames} if ck.width else {}),
                    "scheduler": ck.scheduler,
                    "prediction_type": ck.prediction_type,
                    "available": prof.store.has(ck.id),
                }
            )
        if fam.controlnet_id:
            rows.append(
                {
                    "family": fam.display,
                    "id": fam.controlnet_id,
                    "conditionings": ["controlnet-canny"],
                    "available": prof.store.has(fam.controlnet_id),
                }
            )
    rows.append({"family": "quality", "id": QUALITY_MODEL_ID, "available": prof.store.has(QUALITY_MODEL_ID)})
    if as_json:
        print_json({"profile": prof.name, "models": rows})
        return
    table = Table(title=f"Model registry (profile {prof.name}, store {prof.hub_cache})")
    for col in ("family", "id", "conditioning", "real default", "available"):
        table.add_column(col)
    for r in rows:
        size = f"{r['size']}, {r['frames']} frames" if "size" in r else f"{r.get('resolution')} px"
        default = f"{size}, {r['scheduler']}, {r['prediction_type']}" if "resolution" in r else ""
        table.add_row(
            r["family"],
            r["id"],
            ", ".join(r.get("conditionings", [])),
            default,
            "yes" if r["available"] else "[red]no[/]",
        )
    console.print(table)


@app.command()
@friendly_errors
def build(
    profile: ProfileOption = DEFAULT,
    force: Annotated[bool, typer.Option("--force", help="rebuild even when the recipe is unchanged")] = False,
    as_json: JsonOption = False,
) -> None:
    """Build the tiny random-weight stand-ins under the real ids (only those missing or whose recipe changed)."""
    prof = get_profile(profile)
    from diffbench.models.standins.build import build_standins  # imports torch and diffusers: only here

    quiet_transformers()
    outcomes = build_standins(prof, force=force)
    if as_json:
        print_json({"profile": prof.name, "store": str(prof.hub_cache), "models": [o.__dict__ for o in outcomes]})
        return
    table = Table(title=f"Stand-ins for profile {prof.name} in {prof.hub_cache}")
    for col in ("id", "status", "seconds", "MiB", "revision"):
        table.add_column(col, justify="right" if col in ("seconds", "MiB") else "left")
    for o in outcomes:
        table.add_row(o.model_id, o.status, f"{o.seconds:.2f}", f"{o.size_mib:.1f}", o.revision[:12])
    console.print(table)


@app.command()
@friendly_errors
def check(
    profile: ProfileOption = DEFAULT,
    device: DeviceOption = None,
    unsafe_unconfined: UnsafeOption = False,
    as_json: JsonOption = False,
    steps: Annotated[int, typer.Option(help="inference steps of the one generation per row")] = 50,
    model_id: Annotated[list[str] | None, typer.Option("--id", help="check only these ids")] = None,
) -> None:
    """Load every id in a fresh process with the network off and generate once per conditioning kind."""
    prof = open_profile(profile, device, unsafe_unconfined, loads_here=False)

    def progress(row: CheckRow) -> None:  # on stderr in every mode: --json keeps stdout clean for the data
        status = "ok" if row.ok else f"FAILED: {row.error}"
        err_console.print(f"  {row.id} {row.conditioning or ''}: {status}", highlight=False)

    rows = check_models(prof, ids=model_id or None, steps=steps, on_row=progress)
    all_ok = all(r.ok for r in rows)
    if as_json:
        print_json({**prof.facts(), "ok": all_ok, "models": [r.model_dump() for r in rows]})
    else:
        _print_check_table(prof.describe(), steps, rows)
    if not all_ok:
        raise typer.Exit(1)


def _print_check_table(profile: str, steps: int, rows: list[CheckRow]) -> None:
    table = Table(title=f"Model check, {profile} (one process per id, network off)")
    for col in ("id", "conditioning", "load s", f"{steps}-step s", "image", "ok"):
        table.add_column(col, justify="right" if col.endswith(" s") else "left")
    for r in rows:
        table.add_row(
            r.id,
            r.conditioning or "",
            f"{r.load_s:.2f}" if r.load_s is not None else "-",
            f"{r.generate_s:.2f}" if r.generate_s is not None and r.image_size else "-",
            ("x".join(map(str, r.image_size)) + (f", {r.frames} frames" if r.frames else "")) if r.image_size else "-",
            "[green]ok[/]" if r.ok else f"[red]{r.error}[/]",
        )
    console.print(table)
    failed = sum(not r.ok for r in rows)
    console.print(f"{profile}: {len(rows) - failed}/{len(rows)} ok", highlight=False)
