"""The docs name every flag the commands take: a flag `--help` shows that neither README.md nor docs/ mention is a
synopsis gone stale."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
import typer

from diffagent.cli import app as diffagent_app
from diffbench.cli import app as diffbench_app

ROOT = Path(__file__).resolve().parent.parent
DOCS = "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def _flags() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []

    def walk(path: str, command: click.Command) -> None:
        for param in command.params:
            out.extend((path, flag) for flag in param.opts if flag.startswith("--"))
        for sub_name, sub in getattr(command, "commands", {}).items():
            walk(f"{path} {sub_name}", sub)

    for name, app in (("diffbench", diffbench_app), ("diffagent", diffagent_app)):
        walk(name, typer.main.get_command(app))
    return out


@pytest.mark.parametrize(("command", "flag"), _flags())
def test_every_flag_is_in_the_docs(command, flag):
    assert f"{flag}" in DOCS, f"{command} {flag} is in --help and in no doc"
