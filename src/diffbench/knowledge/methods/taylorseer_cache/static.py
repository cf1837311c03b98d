from diffbench.evaluation.static.detection import config_applied, params

CONFIG = {"cache_interval": (None, 5), "disable_cache_before_step": (None, 3), "max_order": (None, 1)}
NAMES = {
    "cache_interval": "cache_interval",
    "disable_cache_before_step": "disable_cache_before_step",
    "max_order": "max_order",
}


def detect(facts):
    # `apply_taylorseer_cache(module, TaylorSeerCacheConfig(...))` or `module.enable_cache(TaylorSeerCacheConfig(...))`
    config = config_applied(facts, "TaylorSeerCacheConfig", "apply_taylorseer_cache")
    if config is None:
        return None
    return {NAMES[k]: v for k, v in params(config, CONFIG).items()}
