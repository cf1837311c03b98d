from diffbench.evaluation.static.detection import calls_on, params

SET_PARAMS = {"cache_interval": (0, 1), "cache_branch_id": (1, 0)}  # DeepCacheSDHelper.set_params defaults
LOADER = {"cache_interval": (1, 3), "cache_branch_id": (2, 0)}  # tgate's combined loaders' defaults


def detect(facts):
    for helper in reversed(facts.find("DeepCacheSDHelper")):
        if calls_on(facts, helper.result, "enable"):
            set_calls = calls_on(facts, helper.result, "set_params")
            return params(set_calls[-1], SET_PARAMS) if set_calls else {"cache_interval": 1, "cache_branch_id": 0}
    loaders = facts.find("TgateSDDeepCacheLoader", "TgateSDXLDeepCacheLoader")
    return params(loaders[-1], LOADER) if loaders else None
