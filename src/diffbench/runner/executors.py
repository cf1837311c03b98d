"""Where the judge runs: `local` (this machine, one job at a time per device, so no two timed jobs share it) or
`ray` (Ray tasks on an existing cluster, one GPU each under `cuda`, a whole node's CPUs under `tiny-cpu`).

Solvers (and so every LLM call) stay on the driver: jobs arrive from the driver's generator as their modules are
written, and each verdict comes back to the driver, which alone writes the run database. Under Ray the judge's
images stay on the node that ran it; its paths are recorded as that node saw them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from diffbench.errors import DiffbenchError
from diffbench.evaluation.judge import JudgeOptions, evaluate
from diffbench.evaluation.result import EvalResult
from diffbench.models.device import is_cuda
from diffbench.models.profiles import Profile
from diffbench.tasks.schema import Task


@dataclass
class Job:
    task: Task
    code: str
    out_dir: Path
    solve_seconds: float


OnResult = Callable[[Job, EvalResult], None]


class Executor(Protocol):
    name: str

    def run(self, jobs: Iterable[Job], on_result: OnResult) -> None: ...


def judge_job(task_json: str, code: str, profile_json: str, out_dir: str, options: JudgeOptions) -> str:
    """One verdict, as JSON: the unit of work an executor runs (importable by a Ray worker)."""
    task = Task.model_validate_json(task_json)
    out = Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    return evaluate(task, code, Profile.model_validate_json(profile_json), out, options).model_dump_json()


class LocalExecutor:
    name = "local"

    def __init__(self, profile: Profile, options: JudgeOptions) -> None:
        self.profile = profile
        self.options = options

    def run(self, jobs: Iterable[Job], on_result: OnResult) -> None:
        for job in jobs:
            answer = judge_job(
                job.task.model_dump_json(), job.code, self.profile.model_dump_json(), str(job.out_dir), self.options
            )
            on_result(job, EvalResult.model_validate_json(answer))


class RayExecutor:
    name = "ray"

    def __init__(
        self, profile: Profile, options: JudgeOptions, address: str | None = None, cpus_per_job: int | None = None
    ) -> None:
        try:
            import ray
        except ImportError:
            raise DiffbenchError("the ray executor needs Ray: pip install 'diffbench[ray]'") from None
        self.ray = ray
        # Ray gives each GPU job its own GPU through CUDA_VISIBLE_DEVICES (passed on to the confined children):
        # inside the job that GPU is `cuda`, whatever index --device named on the driver.
        gpu = is_cuda(profile.device)
        self.profile = profile.with_device("cuda") if gpu else profile
        self.options = options
        if not ray.is_initialized():
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError) as err:
                raise DiffbenchError(f"cannot join the Ray cluster at {address or 'auto'}: {err}") from None
        # A timed job has its device to itself: one GPU under cuda; under tiny-cpu every CPU of a node.
        cpus = cpus_per_job or (1 if gpu else max(1, int(min(n["Resources"].get("CPU", 1) for n in ray.nodes()))))
        env = {**profile.env(), "OMP_NUM_THREADS": str(cpus), "RAY_USAGE_STATS_ENABLED": "0"}
        self.remote = ray.remote(judge_job).options(
            num_gpus=1 if gpu else 0, num_cpus=cpus, runtime_env={"env_vars": env}, max_retries=0
        )
        self.capacity = max(1, int(ray.cluster_resources().get("GPU" if gpu else "CPU", 1) // (1 if gpu else cpus)))

    def run(self, jobs: Iterable[Job], on_result: OnResult) -> None:
        pending: dict[Any, Job] = {}

        def collect(block_until: int) -> None:
            while len(pending) > block_until:
                ready, _ = self.ray.wait(list(pending), num_returns=1)
                job = pending.pop(ready[0])
                on_result(job, EvalResult.model_validate_json(self.ray.get(ready[0])))

        for job in jobs:
            profile = self.profile.model_dump_json()
            ref = self.remote.remote(job.task.model_dump_json(), job.code, profile, str(job.out_dir), self.options)
            pending[ref] = job
            collect(self.capacity)
        collect(0)


def make_executor(
    name: str, profile: Profile, options: JudgeOptions, ray_address: str | None = None, ray_cpus: int | None = None
) -> Executor:
    if name == "local":
        return LocalExecutor(profile, options)
    if name == "ray":
        return RayExecutor(profile, options, ray_address, ray_cpus)
    raise DiffbenchError(f"unknown executor {name!r}; local or ray")
