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


def test_the_agents_options_are_declared_once_for_both_commands():
    """`diffbench run` and `diffagent solve` take the agent's shape and ablations from diffbench/cli/agent_options.py:
    the same flags with the same help (the defaults named there, from runner/agent_settings.py, are the agent's own),
    and what a user gave becomes the agent's options the same way on both routes. The agent's core reads its
    defaults from runner/agent_settings.py, never from a command-line module."""
    from diffagent.agent.loop import AgentOptions
    from diffbench.errors import DiffbenchError
    from diffbench.runner.agent_settings import DEFAULT_POPULATION, given

    def options(app: typer.Typer, *path: str) -> dict[str, str]:
        command = typer.main.get_command(app)
        for name in path:
            command = command.commands[name]
        return {flag: param.help for param in command.params for flag in param.opts}

    run, solve = options(diffbench_app, "run"), options(diffagent_app, "solve")
    shared = ["--population", "--parents", "--generations", "--code-restarts", "--debug-rounds", "--no-knowledge",
              "--no-ga", "--best-of-n", "--no-debugger", "--no-tuner"]  # fmt: skip
    assert [f for f in shared if f not in run or run[f] != solve.get(f)] == []
    assert run["--agent-samples"] == solve["--samples"]
    assert f"(default {DEFAULT_POPULATION})" in run["--population"]
    assert given() == {}
    chosen = AgentOptions.of(given(population=2, no_tuner=True, best_of_n=True, samples=4))
    assert (chosen.population, chosen.tune, chosen.best_of_n, chosen.samples, chosen.parents) == (2, False, True, 4, 4)
    core = Path(__file__).parents[1] / "src" / "diffagent" / "agent"
    assert [p.name for p in sorted(core.glob("*.py")) if "diffbench.cli" in p.read_text()] == []
    with pytest.raises(DiffbenchError, match="unknown agent options"):
        AgentOptions.of({"populaton": 2})
