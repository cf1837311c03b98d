"""The evaluation inputs: prompts, class labels and photos drawn at run time, so no solution can predict them.

The shipped prompt set (`data/prompts.txt`) is original text in the style of COCO captions; `--prompts FILE`
takes real COCO captions instead (one per line). Draws come from a secret seed unless one is given (to
reproduce a run). The first three inputs are built so that the judge can check that outputs depend on both
the prompt and the seed: inputs 0 and 1 share a prompt (or class) and differ in seed; inputs 0 and 2 share a
seed and differ in prompt (or class)."""

from __future__ import annotations

import json
import random
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diffbench.errors import DiffbenchError
from diffbench.images import synthetic_photo
from diffbench.models.families import Conditioning

PROMPTS_FILE = Path(__file__).parent / "data" / "prompts.txt"
IMAGENET_LABELS = Path(__file__).parents[1] / "models" / "standins" / "imagenet_labels.json"
NEGATIVE_PROMPT = "blurry, low quality"


class PromptFileError(DiffbenchError):
    pass


def read_prompts(path: Path = PROMPTS_FILE) -> list[str]:
    if not path.is_file():
        raise PromptFileError(f"prompt file {path} does not exist")
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    prompts = [ln for ln in lines if ln and not ln.startswith("#")]
    if len(prompts) < 3:
        raise PromptFileError(f"prompt file {path} has {len(prompts)} prompt(s); at least 3 are needed")
    return prompts


def class_labels() -> list[int]:
    """ImageNet class ids that have a real name in the shipped id2label."""
    data = json.loads(IMAGENET_LABELS.read_text())
    return sorted(int(k) for k in data)


@dataclass(frozen=True)
class EvalInput:
    seed: int
    prompt: str | None = None
    class_label: int | None = None
    image_seed: int | None = None
    image_size: int | None = None

    def text(self) -> str:
        """What a CLIP score compares the image with: the prompt, or the class named as a photo caption."""
        return self.prompt if self.prompt is not None else f"a photo of class {self.class_label}"

    def request(self, image_path: Path | None = None) -> dict[str, Any]:
        """The request dict of the solution contract (the photo as a file path for the worker to open)."""
        out: dict[str, Any] = {"seed": self.seed}
        if self.prompt is not None:
            out["prompt"] = self.prompt
            out["negative_prompt"] = NEGATIVE_PROMPT
        if self.class_label is not None:
            out["class_label"] = self.class_label
        if image_path is not None:
            out["image"] = str(image_path)
        return out

    def write_image(self, folder: Path, name: str) -> Path | None:
        if self.image_seed is None or self.image_size is None:
            return None
        path = folder / f"{name}.png"
        synthetic_photo(self.image_size, seed=self.image_seed).save(path)
        return path

    def key(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)


def draw_inputs(
    conditioning: Conditioning, count: int, seed: int | None = None, prompts: list[str] | None = None
) -> list[EvalInput]:
    """`count` inputs (at least 3) for a task of this conditioning kind."""
    if count < 3:
        raise ValueError("at least 3 inputs: the prompt- and seed-dependence checks use the first three")
    rng = random.Random(seed if seed is not None else secrets.randbits(64))
    seeds = [rng.randrange(2**31) for _ in range(count)]
    seeds[2] = seeds[0]  # inputs 0 and 2: same seed, different prompt
    if conditioning == Conditioning.CLASS:
        labels = rng.sample(class_labels(), count)
        labels[1] = labels[0]  # inputs 0 and 1: same class, different seed
        return [EvalInput(seed=s, class_label=c) for s, c in zip(seeds, labels, strict=True)]
    pool = prompts or read_prompts()
    texts = rng.sample(pool, min(count, len(pool)))
    texts += [rng.choice(pool) for _ in range(count - len(texts))]
    texts[1] = texts[0]
    if texts[2] == texts[0]:
        texts[2] = next(p for p in pool if p != texts[0])
    if conditioning not in (Conditioning.IMAGE, Conditioning.CANNY, Conditioning.IMAGE_TO_VIDEO):
        return [EvalInput(seed=s, prompt=t) for s, t in zip(seeds, texts, strict=True)]
    photos = [rng.randrange(2**31) for _ in range(count)]
    photos[1] = photos[2] = photos[0]  # the dependence checks change one thing at a time
    # Photos arrive at sizes the code must resize from (the contract), never at the task's own size.
    size = rng.choice([384, 448, 576, 640])
    return [
        EvalInput(seed=s, prompt=t, image_seed=i, image_size=size) for s, t, i in zip(seeds, texts, photos, strict=True)
    ]
