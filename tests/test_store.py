import pytest

from diffbench.models.store import HubCacheStore

REV1, REV2 = "a" * 40, "b" * 40


def save_config(folder):
    (folder / "config.json").write_text("{}")


def test_layout_is_the_hub_cache_layout(tmp_path):
    store = HubCacheStore(tmp_path)
    snap = store.write("org/name", REV1, save_config)
    assert snap == tmp_path / "models--org--name" / "snapshots" / REV1
    assert (tmp_path / "models--org--name" / "refs" / "main").read_text() == REV1
    assert store.has("org/name") and store.has("org/name", REV1) and not store.has("org/name", REV2)


def test_new_revision_replaces_the_old_one(tmp_path):
    store = HubCacheStore(tmp_path)
    store.write("org/name", REV1, save_config)
    store.write("org/name", REV2, save_config)
    assert store.revision("org/name") == REV2
    assert [p.name for p in (tmp_path / "models--org--name" / "snapshots").iterdir()] == [REV2]


def test_failed_save_leaves_the_previous_revision_in_force(tmp_path):
    store = HubCacheStore(tmp_path)
    store.write("org/name", REV1, save_config)

    def broken(folder):
        (folder / "config.json").write_text("{")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.write("org/name", REV2, broken)
    assert store.revision("org/name") == REV1
    assert store.snapshot_dir("org/name") is not None
    assert not any(p.name.startswith(".staging") for p in (tmp_path / "models--org--name" / "snapshots").iterdir())


def test_snapshot_without_config_is_not_available(tmp_path):
    store = HubCacheStore(tmp_path)
    store.write("org/name", REV1, lambda folder: (folder / "README.md").write_text("x"))
    assert not store.has("org/name")
