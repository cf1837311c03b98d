"""A model store laid out as a Hugging Face hub cache, so unmodified `from_pretrained(REAL_ID)` finds it.

Layout (the part of the hub cache that offline loading reads):
    <root>/models--ORG--NAME/refs/main                 -> the revision (40 hex)
    <root>/models--ORG--NAME/snapshots/<revision>/...  -> the saved files
No `blobs/` folder is needed for offline loading.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def repo_folder_name(model_id: str) -> str:
    return "models--" + model_id.replace("/", "--")


class HubCacheStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def repo_dir(self, model_id: str) -> Path:
        return self.root / repo_folder_name(model_id)

    def revision(self, model_id: str) -> str | None:
        ref = self.repo_dir(model_id) / "refs" / "main"
        return ref.read_text().strip() if ref.is_file() else None

    def snapshot_dir(self, model_id: str) -> Path | None:
        """The folder `from_pretrained` will load, or None when the id is not (completely) stored."""
        rev = self.revision(model_id)
        if rev is None:
            return None
        snap = self.repo_dir(model_id) / "snapshots" / rev
        has_config = (snap / "model_index.json").is_file() or (snap / "config.json").is_file()
        return snap if has_config else None

    def has(self, model_id: str, revision: str | None = None) -> bool:
        if self.snapshot_dir(model_id) is None:
            return False
        return revision is None or self.revision(model_id) == revision

    def write(self, model_id: str, revision: str, save: Callable[[Path], None]) -> Path:
        """Save a model as `revision` of `model_id`; readers never see a half-written snapshot.

        `save(folder)` writes the files (e.g. `pipeline.save_pretrained(folder)`). The snapshot is built in a
        temporary folder next to its final place, renamed into place, and only then is `refs/main` pointed at
        it, so an interrupted build leaves the previous revision (or nothing) in force.
        """
        repo = self.repo_dir(model_id)
        snapshots = repo / "snapshots"
        snapshots.mkdir(parents=True, exist_ok=True)
        final = snapshots / revision
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=snapshots))
        try:
            save(staging)
            if final.exists():
                shutil.rmtree(final)
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        refs = repo / "refs"
        refs.mkdir(exist_ok=True)
        tmp_ref = refs / ".main.tmp"
        tmp_ref.write_text(revision)
        os.replace(tmp_ref, refs / "main")
        for old in snapshots.iterdir():
            if old.name != revision:
                shutil.rmtree(old, ignore_errors=True)
        return final
