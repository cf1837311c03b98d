"""Import a solution module (the contract's two functions) from a file, for code this process chose to run.

Untrusted candidates never come here: they run in a confined child (`diffbench.evaluation.worker`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def import_file(path: Path, name: str | None = None) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path} as a module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_and_import(source: str, path: Path) -> ModuleType:
    path.write_text(source)
    return import_file(path)
