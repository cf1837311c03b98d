from diffbench.evaluation.static.detection import config_applied, params

ADAPTER = {"spatial_skip": (1, 2), "timestep_range": (3, (100, 800))}
CONFIG = {
    "spatial_attention_block_skip_range": (None, None),
    "spatial_attention_timestep_skip_range": (None, (100, 800)),
}


def detect(facts):
    calls = facts.find("enable_pyramid_attention_broadcast")
    if calls:
        found = params(calls[-1], ADAPTER)
        skip_range = found.pop("timestep_range", None)
    elif config := config_applied(facts, "PyramidAttentionBroadcastConfig", "apply_pyramid_attention_broadcast"):
        raw = params(config, CONFIG)
        found = (
            {"spatial_skip": raw["spatial_attention_block_skip_range"]}
            if raw.get("spatial_attention_block_skip_range") is not None
            else {}
        )
        skip_range = raw.get("spatial_attention_timestep_skip_range")
    else:
        return None
    if isinstance(skip_range, list) and len(skip_range) == 2:
        found["timestep_low"], found["timestep_high"] = skip_range
    return found
