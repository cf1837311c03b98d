from diffbench.knowledge.detection import deepcache_params, tgate_deepcache_loader


def detect(pipe):
    loader = tgate_deepcache_loader(pipe)
    helper = getattr(pipe, "deepcache", None)  # where tgate's combined loaders keep their DeepCache helper
    if loader is None or helper is None:
        return None
    return {"loader": loader, **deepcache_params(helper)}
