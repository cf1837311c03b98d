from diffbench.knowledge.detection import deepcache_helper, deepcache_params, tgate_loader


def detect(pipe):
    helper = deepcache_helper(pipe)
    if helper is None or tgate_loader(pipe) in ("tgate.SD_DeepCache", "tgate.SDXL_DeepCache"):
        return None  # the combined T-GATE loader enabled it: reported as tgate_deepcache
    return deepcache_params(helper)
