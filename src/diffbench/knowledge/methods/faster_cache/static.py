from diffbench.evaluation.static.detection import cache_config_params


def detect(facts):
    # `apply_faster_cache(module, FasterCacheConfig(...))` or `module.enable_cache(FasterCacheConfig(...))`
    spec = {"spatial_attention_block_skip_range": (None, 2), "unconditional_batch_skip_range": (None, 5)}
    names = {
        "spatial_attention_block_skip_range": "spatial_skip",
        "unconditional_batch_skip_range": "unconditional_skip",
    }
    return cache_config_params(facts, "FasterCacheConfig", "apply_faster_cache", spec, names)
