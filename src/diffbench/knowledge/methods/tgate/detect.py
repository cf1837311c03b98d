from diffbench.knowledge.detection import attention_skipped, tgate_deepcache_loader, tgate_loader


def detect(pipe):
    loader = tgate_loader(pipe)
    if loader is None or tgate_deepcache_loader(pipe):
        return None  # reported as tgate_deepcache
    return {"loader": loader}  # gate_step and intervals are arguments of pipe.tgate(): confirmed at call time


RULE = "effect-skipped-attention"
MEASURES = "attention calls per denoiser call within one image: after gate_step cross-attention is reused, not computed"


def effect(pipe, trace):
    return attention_skipped(trace)
