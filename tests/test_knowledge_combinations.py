"""Declared compatibility holds: every declared conflict fails (or silently misbehaves) as its reason says,
and every declared composition runs with both methods found on the pipeline."""

import pytest

from diffbench.knowledge import load_knowledge
from diffbench.knowledge.compose import Applied, compose
from diffbench.knowledge.loader import KnowledgeError
from diffbench.models.families import FAMILIES
from knowledge_helpers import build, default_conditioning


def first_family(a: str, b: str) -> str:
    kb = load_knowledge()
    shared = [f for f in FAMILIES if f in kb.method(a).families and f in kb.method(b).families]
    return shared[0]


def declared(kind: str) -> list[tuple[str, str]]:
    kb = load_knowledge()
    if kind == "conflicts":
        return [(m.key, c.method) for m in kb for c in m.conflicts]
    return [(m.key, other) for m in kb for other in m.composes_with]


def test_compose_refuses_declared_conflicts_with_the_reason():
    kb = load_knowledge()
    sd15 = FAMILIES["sd15"].default.id
    for a, b in declared("conflicts"):
        reason = kb.method(a).conflicts_with(b).reason
        with pytest.raises(KnowledgeError, match="conflict"):
            compose(kb, sd15, default_conditioning("sd15"), 256, 10, [Applied(a), Applied(b)])
        assert reason


SCHEDULER_SWAPS = [(a, b) for a, b in declared("conflicts") if {a, b} <= {"ddim", "dpm_solver", "unipc"}]
CRASHES = [(a, b) for a, b in declared("conflicts") if (a, b) not in SCHEDULER_SWAPS]


@pytest.mark.slow
@pytest.mark.parametrize(("a", "b"), SCHEDULER_SWAPS)
def test_two_samplers_silently_run_the_last_one(profile, tmp_path, a, b):
    pipe = build(profile, tmp_path, "sd15", [(a, {}), (b, {})], allow_conflicts=True)
    found = load_knowledge().detect_all(pipe)
    assert b in found and a not in found  # the code says `a`, the pipeline runs `b`


@pytest.mark.slow
@pytest.mark.parametrize(("a", "b"), CRASHES)
def test_conflicting_caches_crash_on_the_halved_batch(profile, tmp_path, a, b):
    family = "sd15"
    with pytest.raises(RuntimeError, match=r"(?i)size"):
        build(profile, tmp_path, family, [(a, {}), (b, {})], steps=6, allow_conflicts=True)


@pytest.mark.slow
@pytest.mark.parametrize(("a", "b"), declared("composes_with"))
def test_declared_compositions_run_with_both_methods_present(profile, tmp_path, a, b):
    pipe = build(profile, tmp_path, first_family(a, b), [(a, {}), (b, {})], steps=4)
    found = load_knowledge().detect_all(pipe)
    assert a in found and b in found, found
