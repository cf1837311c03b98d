"""The judge's effect rules: each rejects a module whose claimed method is on the pipeline but changed nothing in
the call (docs/evaluation.md, "Effect rules"). The modules run in this process under the same probes the judge's
worker installs (`evaluation/trace.py`), on the stand-ins, with few steps."""

import gc
import itertools
from pathlib import Path

import pytest

from diffbench.evaluation.observers import Observers
from diffbench.evaluation.trace import TRACER
from diffbench.knowledge import load_knowledge
from diffbench.knowledge.compose import Applied, compose
from diffbench.models.families import Conditioning
from diffbench.solution_module import write_and_import

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"
SD21 = "stabilityai/stable-diffusion-2-1-base"
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"
DIT = "facebook/DiT-XL-2-256"
TEXT, CLASS = Conditioning.TEXT, Conditioning.CLASS
REQUEST = {"seed": 3, "prompt": "a red boat", "negative_prompt": "", "class_label": 207}
_n = itertools.count()


def module_source(model_id, conditioning, resolution, steps, methods, edit=None):
    applied = [Applied("ddim", {"num_inference_steps": steps}), *methods]
    source = compose(load_knowledge(), model_id, conditioning, resolution, steps, applied, allow_conflicts=True)
    for old, new in (edit or {}).items():
        assert old in source, old
        source = source.replace(old, new, 1)
    return source


def run_once(source, tmp_path):
    TRACER.install()
    module = write_and_import(source, tmp_path / f"effect_{next(_n)}.py")
    pipe = module.load_pipeline("cpu")
    observers = Observers(pipe)
    observers.reset()
    module.generate(pipe, dict(REQUEST))
    report = observers.report()
    del pipe, module
    gc.collect()
    return report


# Each case: the method, the rule that must reject it, and a module in which the method is on the pipeline
# but does nothing during the call.
SWAP_IN_UNHOOKED = {  # FirstBlockCache sits on the pipeline's transformer, but a clean copy does the work
    "    pipe = pipe.to(device)\n": "    pipe = pipe.to(device)\n    UNHOOKED.append(copy.deepcopy(pipe.transformer))\n",  # noqa: E501
    "import torch\n": "import copy\n\nimport torch\n\nUNHOOKED = []\n",
    "    result = pipe(": "    hooked, pipe.transformer = pipe.transformer, UNHOOKED[0]\n    result = pipe(",
    "    return result.images": "    pipe.transformer = hooked\n    return result.images",
}
KERNEL_FOR_ONE_BLOCK = {  # the math kernel pinned around the first down block only
    "    return pipe\n": (
        "    block = pipe.unet.down_blocks[0]\n"
        "    forward = block.forward\n\n"
        "    def pinned(*args, **kwargs):\n"
        "        with sdpa_kernel(SDPBackend.MATH):\n"
        "            return forward(*args, **kwargs)\n\n"
        "    block.forward = pinned\n"
        "    return pipe\n"
    ),
    "import torch\n": "import torch\nfrom torch.nn.attention import SDPBackend, sdpa_kernel\n",
}
HALF_AFTER_THE_CALL = {"    return result.images": "    pipe.unet.half()\n    return result.images"}
CHANNELS_LAST_AFTER = {
    "    return result.images": "    pipe.unet.to(memory_format=torch.channels_last)\n    return result.images"
}
COMPILED_BUT_BYPASSED = {  # the compiled wrapper is the pipeline's UNet, but the call goes around it
    "    result = pipe(": "    compiled, pipe.unet = pipe.unet, pipe.unet._orig_mod\n    result = pipe(",
    "    return result.images": "    pipe.unet = compiled\n    return result.images",
}
DC_EVERY_STEP = [Applied("deepcache", {"cache_interval": 1})]
FBC = [Applied("first_block_cache", {"threshold": 0.2})]
TOME_TOP_STAGE = [Applied("tome", {"ratio": 0.5, "max_downsample": 1})]
QKV_UNDER_TGATE = [Applied("tgate", {"gate_step": 3}), Applied("qkv_fusion", {})]
COMPILE = [Applied("torch_compile", {})]
CASES = {
    "deepcache-every-step": ("deepcache", "effect-skipped-attention", (SD15, TEXT, 512, 5, DC_EVERY_STEP)),
    "fbc-bypassed": ("first_block_cache", "effect-cache-decision", (DIT, CLASS, 256, 5, FBC, SWAP_IN_UNHOOKED)),
    "tome-sdxl-top-stage": ("tome", "effect-merged-tokens", (SDXL, TEXT, 1024, 5, TOME_TOP_STAGE)),
    "qkv-under-tgate": ("qkv_fusion", "effect-fused-projection", (SD21, TEXT, 512, 6, QKV_UNDER_TGATE)),
    "kernel-for-one-block": ("sdpa_backend", "effect-attention-kernel", (SD15, TEXT, 512, 5, [], KERNEL_FOR_ONE_BLOCK)),
    "fp16-after-the-call": ("fp16", "effect-precision", (SD15, TEXT, 512, 5, [], HALF_AFTER_THE_CALL)),
    "channels-last-after": ("channels_last", "effect-memory-format", (SD15, TEXT, 512, 5, [], CHANNELS_LAST_AFTER)),
    "compiled-but-bypassed": ("torch_compile", "effect-compiled", (SD15, TEXT, 512, 5, COMPILE, COMPILED_BUT_BYPASSED)),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_effect_rule_rejects_a_method_that_did_nothing(profile, tmp_path, case):
    key, rule, args = CASES[case]
    report = run_once(module_source(*args), tmp_path)
    assert key in report["methods"], report["methods"]
    effect = report["effects"][key]
    assert effect["rule"] == rule and effect["took_effect"] is False, effect


@pytest.mark.slow
def test_the_same_methods_applied_plainly_take_effect(profile, tmp_path):
    # 256 px, 5 steps: enough for DeepCache to skip steps, and fp16 (up to 75x slower than fp32 on a CPU without
    # fp16 instructions) costs a quarter of a 512 px call
    source = module_source(SD15, TEXT, 256, 5, [Applied("deepcache", {"cache_interval": 2}), Applied("fp16", {})])
    effects = run_once(source, tmp_path)["effects"]
    assert effects["deepcache"]["took_effect"] and effects["fp16"]["took_effect"], effects


def test_every_effect_rule_is_documented():
    kb = load_knowledge()
    rules = {kb.effect_rule(m.key)[0] for m in kb if kb.effect_rule(m.key)}
    documented = (Path(__file__).parents[1] / "docs" / "evaluation.md").read_text()
    assert all(f"`{rule}`" in documented for rule in rules), rules
    tested = {rule for _, rule, _ in CASES.values()}
    assert rules - tested <= {"effect-guidance-dropped"}  # not in the suite; found only by its effect
