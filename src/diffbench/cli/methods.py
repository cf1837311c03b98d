"""`diffbench methods ...`: the acceleration knowledge base."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from diffbench.cli.common import JsonOption, console, friendly_errors, print_json
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
        params = "\n".join(
            f"{p.name}={p.default}"
            + (
                f" [{p.low:g}, {p.high:g}]"
                if p.low is not None and p.high is not None
                else f" {list(p.choices)}"
                if p.choices
                else ""
            )
            for p in m.parameters
        )
        limits = [f"conflicts {c.method}: {c.reason}" for c in m.conflicts]
        limits += [f"not {', '.join(u.families or u.conditionings)}: {u.reason}" for u in m.unsupported]
        table.add_row(
            f"{m.key}\n({m.name})", m.category, ", ".join(m.families), params or "-", "\n".join(limits) or "-"
        )
    console.print(table)
