from diffbench.knowledge.detection import deepcache_helper, deepcache_params, tgate_deepcache_loader


def detect(pipe):
    helper = deepcache_helper(pipe)
    if helper is None or tgate_deepcache_loader(pipe):
        return None  # the combined T-GATE loader enabled it: reported as tgate_deepcache
    return deepcache_params(helper)
