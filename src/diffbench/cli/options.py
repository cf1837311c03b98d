"""The options the commands share (profile, device, confinement, JSON output) and the profile they open; the
agent's options are declared once in diffbench/cli/agent_options.py for `diffagent solve` and `diffbench run`."""

from __future__ import annotations

from typing import Annotated

import typer

from diffbench.models.profiles import DEFAULT_PROFILE, Profile, get_profile

ProfileOption = Annotated[
    str,
    typer.Option(
        "--profile", "-p", help="tiny-cpu (stand-ins on the CPU), tiny-cuda (stand-ins on a GPU) or cuda (real weights)"
    ),
]
DeviceOption = Annotated[
    str | None, typer.Option("--device", help="override the profile's device: cpu, cuda or cuda:N")
]
UnsafeOption = Annotated[
    bool,
    typer.Option(
        "--unsafe-unconfined",
        help="run candidates even where no read-only sandbox can be made (no bubblewrap, no mount namespace)",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON on stdout instead of a table")]
DEFAULT = DEFAULT_PROFILE


def open_profile(
    name: str, device: str | None = None, unsafe_unconfined: bool = False, loads_here: bool = True
) -> Profile:
    """The profile a model-running command works under: on its device (checked here, one line if missing), and,
    when this process loads models itself (`loads_here`), pointed at its model store: call that before anything
    imports huggingface_hub. Commands whose children do all the loading pass the profile's env to them instead."""
    from diffbench.models.loading import activate

    profile = get_profile(name, device)
    ready(profile, unsafe_unconfined)
    if loads_here:
        activate(profile)
    return profile


def ready(profile: Profile, unsafe_unconfined: bool = False) -> None:
    """Check the profile's device (one line if missing) and, where asked, allow candidates to run unconfined."""
    from diffbench.sandbox.confinement import allow_unconfined

    profile.require_device()
    if unsafe_unconfined:
        allow_unconfined()
