from diffbench.evaluation.static.detection import config_applied, params

CONFIG = {"threshold": (None, 0.06), "max_skip_steps": (None, 3)}
NAMES = {"threshold": "threshold", "max_skip_steps": "max_skip_steps"}


def detect(facts):
    # `apply_mag_cache(module, MagCacheConfig(...))` or `module.enable_cache(MagCacheConfig(...))`
    config = config_applied(facts, "MagCacheConfig", "apply_mag_cache")
    if config is None:
        return None
    return {NAMES[k]: v for k, v in params(config, CONFIG).items()}
