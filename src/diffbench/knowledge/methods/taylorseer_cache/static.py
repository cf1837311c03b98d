from diffbench.evaluation.static.detection import cache_config_params


def detect(facts):
    # `apply_taylorseer_cache(module, TaylorSeerCacheConfig(...))` or `module.enable_cache(TaylorSeerCacheConfig(...))`
    spec = {"cache_interval": (None, 5), "disable_cache_before_step": (None, 3), "max_order": (None, 1)}
    return cache_config_params(facts, "TaylorSeerCacheConfig", "apply_taylorseer_cache", spec)
