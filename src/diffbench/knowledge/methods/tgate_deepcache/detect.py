from diffbench.knowledge.detection import attention_skipped, deepcache_params, tgate_deepcache_loader


def detect(pipe):
    loader = tgate_deepcache_loader(pipe)
    helper = getattr(pipe, "deepcache", None)  # where tgate's combined loaders keep their DeepCache helper
    if loader is None or helper is None:
        return None
    return {"loader": loader, **deepcache_params(helper)}


RULE = "effect-skipped-attention"
MEASURES = "attention calls per denoiser call within one image: gated cross-attention and DeepCache's cached steps"


def effect(pipe, trace):
    return attention_skipped(trace)
