from diffbench.evaluation.static.detection import config_applied, params

CONFIG = {
    "spatial_attention_block_skip_range": (None, None),
    "spatial_attention_timestep_skip_range": (None, (100, 800)),
}


def detect(facts):
    # `apply_pyramid_attention_broadcast(module, PyramidAttentionBroadcastConfig(...))` or `module.enable_cache(...)`
    config = config_applied(facts, "PyramidAttentionBroadcastConfig", "apply_pyramid_attention_broadcast")
    if config is None:
        return None
    raw = params(config, CONFIG)
    found = {}
    if raw.get("spatial_attention_block_skip_range") is not None:
        found["spatial_skip"] = raw["spatial_attention_block_skip_range"]
    skip_range = raw.get("spatial_attention_timestep_skip_range")
    if isinstance(skip_range, list) and len(skip_range) == 2:
        found["timestep_low"], found["timestep_high"] = skip_range
    return found
