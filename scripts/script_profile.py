"""The profile a measuring script runs under, read from its `--profile`/`--device` before argparse runs: the hub's
cache location must be set (`activate`) before anything imports huggingface_hub, so it cannot wait for main()."""

from __future__ import annotations

import sys

from diffbench.models.loading import activate
from diffbench.models.profiles import Profile, get_profile


def _arg(name: str, default: str) -> str:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def profile_from_argv(default: str = "tiny-cpu") -> Profile:
    """`--profile P [--device D]` from the command line, its device required and its hub cache activated."""
    profile = get_profile(_arg("--profile", default), _arg("--device", "") or None)
    profile.require_device()
    activate(profile)
    return profile
