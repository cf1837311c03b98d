from diffbench.knowledge.detection import deepcache_params, tgate_loader


def detect(pipe):
    loader = tgate_loader(pipe)
    helper = getattr(pipe, "deepcache", None)
    if loader not in ("tgate.SD_DeepCache", "tgate.SDXL_DeepCache") or helper is None:
        return None
    return {"loader": loader, **deepcache_params(helper)}
