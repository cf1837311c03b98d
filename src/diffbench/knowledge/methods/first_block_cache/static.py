from diffbench.evaluation.static.detection import config_applied, params


def detect(facts):
    calls = facts.find("enable_first_block_cache")
    if calls:
        return params(calls[-1], {"threshold": (1, None)})
    config = config_applied(facts, "FirstBlockCacheConfig", "apply_first_block_cache")
    return params(config, {"threshold": (0, 0.05)}) if config else None
