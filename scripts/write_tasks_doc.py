"""Writes docs/tasks.md from the packaged suite: what the 604 tasks cover (the paper's Figure 2 as tables).

Reproduce: `.venv/bin/python scripts/write_tasks_doc.py` (the suite itself: `diffbench tasks generate`).
"""

from __future__ import annotations

from pathlib import Path

from diffbench.tasks.schema import LEVEL_NAMES
from diffbench.tasks.stats import TITLES, stats
from diffbench.tasks.suite import suite

DOC = Path(__file__).resolve().parents[1] / "docs" / "tasks.md"

INTRO = """# The task suite

604 tasks in five levels, produced by a deterministic generator (`src/diffbench/tasks/generate.py`) from the
knowledge base and hand-written phrasings (`src/diffbench/tasks/phrasing/`), stored as JSON lines in
`src/diffbench/tasks/data/`. `diffbench tasks generate --check` confirms the files are byte for byte what the
generator writes; `diffbench tasks validate` checks every task (below). Counts on this page come from
`diffbench tasks stats --json`; regenerate the page with `.venv/bin/python scripts/write_tasks_doc.py`.

## What a task is

- a **prompt** a person could have written, naming the model (by its hub id), the conditioning, the resolution,
  the sampler and steps, and the methods with the parameters the judge checks;
- **reference code** (composed from the knowledge base's templates) and **baseline code** (the same pipeline with
  no acceleration), both in the [solution contract](contract.md);
- **key attributes**: what stage 1 matches exactly (pipeline class, model id, ControlNet id, scheduler class,
  steps, resolution, methods with their stated parameters, Canny preprocessing); extras in a candidate pass;
- for levels 4-5: a **difficulty** (easy, medium, hard), the quality bound **delta** (5%) and per-profile
  **targets** (speedup for level 4; latency and platform for level 5). Prompts keep `{speedup}`, `{latency}` and
  `{platform}` placeholders that `diffbench tasks show ID --profile P` fills from the targets. Targets come only
  from `diffbench calibrate` (a search for the largest speedup within delta on that profile; see
  [calibration.md](calibration.md)), whose configuration found is also the task's reference code (`reference_source:
  calibration`); until a profile is calibrated its targets are absent, never invented. The `tiny-cpu` targets are
  committed; a baseline not yet calibrated keeps the knowledge base's usual first move as its reference
  (DeepCache interval 3 on U-Nets, DPM-Solver++ at 20 steps on transformers).

Levels: 1 builds the pipeline as asked (sampler, steps, resolution; the baseline is the reference itself);
2 adds one method (a change of sampler or step count counts); 3 combines two or three methods, every pair of them
declared compatible in the knowledge base (`composes_with`, each pair tested on a stand-in); 4 and 5 share 31
baselines, each at three difficulties. Every task uses its checkpoint's native resolution (256 to 1024).

## References use public libraries only

No reference or baseline imports this project (`tests/test_tasks.py` checks all 1,208 modules): each is diffusers,
transformers, torch, DeepCache, tgate or tomesd code a person could write from those libraries' documentation.
Where a library cannot apply a method to a family through its public API, the choice per method (issue 15):

| method | families | what the reference does | why |
|---|---|---|---|
| FirstBlockCache | DiT, PixArt-alpha, PixArt-Sigma | `apply_first_block_cache(pipe.transformer, FirstBlockCacheConfig(...))`, plus a dozen inline lines that open `CacheMixin.cache_context(transformer, ...)` around each transformer call and reset the hooks before each image | these transformers are not `CacheMixin` models, so their pipelines open no cache context; the static parser reads the config however it is passed |
| Pyramid Attention Broadcast | DiT, PixArt-alpha, PixArt-Sigma | `apply_pyramid_attention_broadcast` with an inline `current_timestep_callback` that returns the timestep of the transformer's latest call | the documented `lambda: pipe.current_timestep` does not exist on these pipelines |
| SDPA kernel | all | `with sdpa_kernel(SDPBackend.X):` around the pipeline call (PyTorch's own idiom) | `set_attention_backend()` is a silent no-op on these families' `AttnProcessor2_0` |
| CFG truncation | SD1.5, SD2.1, SDXL | not asked for by the suite (`not_in_suite` in its method.yaml); the agent may still use it, as an inline callback | diffusers' recipe keeps the fraction inside a callback's body, which no parser reads fairly from code written in the recipe's many forms |

Combinations where one method disables another are never asked for: the generator and calibration compose only
pairs declared in `composes_with`, and a pair declared `inert` in a method's `conflicts` (QKV fusion under T-GATE,
whose attention processors never use the fused projection) is refused with its reason
(`tests/test_tasks.py`); a calibrated configuration that held such a pair keeps only the method that did the work.
ToMe on SDXL takes `max_downsample` 2 (the family's sensible range starts there; at the library's default 1 it
merges nothing, since SDXL's top stage has no attention), and the task records the value its reference uses.

## What `diffbench tasks validate` checks

Every reference and baseline compiles and defines the contract's functions; the static parser extracts from every
reference exactly its task's key attributes, and from every baseline its declared baseline attributes; on levels
2-5 every baseline fails the key attributes (it lacks what the task asks for); the level counts are 41 / 116 /
261 / 93 / 93; the files equal the generator's output.

Every reference also runs: `tests/test_task_references.py` builds each on the stand-ins and makes one image at
the task's resolution (3 steps). CI runs one task per (level, family); `DIFFBENCH_FULL_SIZE=1` runs every
distinct pipeline-and-methods shape: 368 passed in 6 min 26 s on this machine (2026-11-23; the slowest, a
torch.compile task, 38 s).
"""


def table(title: str, counts: dict[str, int], label=lambda k: k) -> str:
    total = sum(counts.values())
    rows = [f"| {label(k)} | {v} | {v / total:.0%} |" for k, v in counts.items()]
    return f"### {title}\n\n| {title} | tasks | share |\n|---|---|---|\n" + "\n".join(rows) + "\n"


def main() -> None:
    tasks = list(suite())
    data = stats(tasks)
    parts = [INTRO, f"## Coverage ({data['total']} tasks)\n"]
    for key, title in TITLES.items():
        label = (lambda k: f"{k} ({LEVEL_NAMES[int(k)]})") if key == "by_level" else (lambda k: k)
        parts.append(table(title, data[key], label))
    parts.append("## One prompt per level\n")
    for level in range(1, 6):
        task = next(t for t in tasks if t.level == level)
        parts.append(f"- **{task.id}**: {task.prompt}\n")
    DOC.write_text("\n".join(parts))
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
