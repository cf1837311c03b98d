from diffbench.evaluation.static.detection import cache_config_params


def detect(facts):
    # `apply_mag_cache(module, MagCacheConfig(...))` or `module.enable_cache(MagCacheConfig(...))`
    spec = {"threshold": (None, 0.06), "max_skip_steps": (None, 3)}
    return cache_config_params(facts, "MagCacheConfig", "apply_mag_cache", spec)
