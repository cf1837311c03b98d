"""Task reference code really runs: each one builds its pipeline on the stand-ins and makes one image at the
task's resolution (a few steps; the judge's full runs are the evaluator's job), with the judge's run-time probes
on: every method of the task is found on the pipeline and took effect in the call (docs/evaluation.md).

CI runs one task per (level, family); DIFFBENCH_FULL_SIZE=1 runs every distinct pipeline-and-methods shape."""

import gc
import itertools

import pytest

from conftest import FULL_SIZE
from diffbench.evaluation.observers import Observers
from diffbench.evaluation.trace import TRACER
from diffbench.images import synthetic_photo
from diffbench.solution_module import write_and_import
from diffbench.tasks.suite import suite

_counter = itertools.count()


def shape(task):
    return (task.model_id, task.conditioning, task.sampler, tuple(m.key for m in task.methods))


def chosen_tasks():
    tasks = list(suite("paper")) + list(suite("extended"))
    if FULL_SIZE:
        seen, out = set(), []
        for task in tasks:
            if shape(task) not in seen:
                seen.add(shape(task))
                out.append(task)
        return out
    # CI prefers, for each (level, family), a task without torch.compile (half a minute on a CPU) or bf16/fp16
    # (20-90 s a call on a CPU without bf16/fp16 instructions); the full run covers both.
    picked: dict[tuple[int, str], tuple[int, object]] = {}
    for task in tasks:
        keys = {m.key for m in task.methods}
        if "torch_compile" in keys:
            continue
        cost = int(bool(keys & {"bf16", "fp16"}))
        slot = (task.level, task.family)
        if slot not in picked or cost < picked[slot][0]:
            picked[slot] = (cost, task)
    return [task for _, task in picked.values()]


def steps_for_effects(task) -> int:
    """Few steps, but enough for each method to act: past T-GATE's gate, into PAB's timestep range."""
    steps = 3
    for method in task.methods:
        if "gate_step" in method.params:
            steps = max(steps, int(method.params["gate_step"]) + 2)
        if method.key == "pab":
            steps = max(steps, 6)
    return steps


def load_module(source, tmp_path):
    return write_and_import(source, tmp_path / f"reference_{next(_counter)}.py")


@pytest.mark.slow
@pytest.mark.parametrize("task", chosen_tasks(), ids=lambda t: t.id)
def test_reference_runs_and_returns_the_task_resolution(profile, tmp_path, task):
    TRACER.install()
    module = load_module(task.reference_code, tmp_path)
    module.NUM_INFERENCE_STEPS = steps_for_effects(task)  # read at call time; the count is not what is tested
    pipe = module.load_pipeline("cpu")
    observers = Observers(pipe)
    observers.reset()
    request = {"seed": 1, "prompt": "a lighthouse on a cliff", "class_label": 207, "image": synthetic_photo(300)}
    images = module.generate(pipe, request)
    observed = observers.report()
    assert len(images) == 1
    assert images[0].size == (task.resolution, task.resolution)
    for method in task.methods:
        assert method.key in observed["methods"], f"{method.key} not found on the built pipeline"
    failed = {k: e for k, e in observed["effects"].items() if e["took_effect"] is False}
    assert not failed, failed
    del pipe, module
    gc.collect()
