from diffbench.evaluation.static.detection import config_applied, params


def detect(facts):
    # `apply_first_block_cache(module, FirstBlockCacheConfig(...))` or `module.enable_cache(FirstBlockCacheConfig(...))`
    config = config_applied(facts, "FirstBlockCacheConfig", "apply_first_block_cache")
    return params(config, {"threshold": (0, 0.05)}) if config else None
