"""ImageNet-1k class names for DiT's `id2label`.

Nothing can be downloaded here, so `imagenet_labels.json` holds only the classes whose names we are sure of;
the others are named `imagenet class N`. The ids are the real ones, so `pipe.get_label_ids(["golden
retriever"])` gives 207 as on the real checkpoint. Evaluation sets draw class labels from the named ones.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

NUM_CLASSES = 1000


@cache
def named_imagenet_classes() -> dict[int, str]:
    raw = json.loads((Path(__file__).with_name("imagenet_labels.json")).read_text())
    return {int(k): v for k, v in raw.items()}


def imagenet_id2label() -> dict[int, str]:
    named = named_imagenet_classes()
    return {i: named.get(i, f"imagenet class {i}") for i in range(NUM_CLASSES)}
