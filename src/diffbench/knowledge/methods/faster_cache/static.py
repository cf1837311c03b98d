from diffbench.evaluation.static.detection import config_applied, params

CONFIG = {"spatial_attention_block_skip_range": (None, 2), "unconditional_batch_skip_range": (None, 5)}
NAMES = {"spatial_attention_block_skip_range": "spatial_skip", "unconditional_batch_skip_range": "unconditional_skip"}


def detect(facts):
    # `apply_faster_cache(module, FasterCacheConfig(...))` or `module.enable_cache(FasterCacheConfig(...))`
    config = config_applied(facts, "FasterCacheConfig", "apply_faster_cache")
    if config is None:
        return None
    return {NAMES[k]: v for k, v in params(config, CONFIG).items()}
