from diffbench.knowledge.detection import attention_skipped, deepcache_helper, deepcache_params, tgate_deepcache_loader


def detect(pipe):
    helper = deepcache_helper(pipe)
    if helper is None or tgate_deepcache_loader(pipe):
        return None  # the combined T-GATE loader enabled it: reported as tgate_deepcache
    return deepcache_params(helper)


RULE = "effect-skipped-attention"
MEASURES = "attention calls per denoiser call within one image: cached steps run only the shallow blocks"


def effect(pipe, trace):
    return attention_skipped(trace)
