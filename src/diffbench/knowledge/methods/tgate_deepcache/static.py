from diffbench.evaluation.static.detection import params, tgate_call

LOADER = {"cache_interval": (1, 3), "cache_branch_id": (2, 0)}
CALL = {"gate_step": (None, 10), "sp_interval": (None, 1), "fi_interval": (None, 1), "warm_up": (None, 0)}


def detect(facts):
    loaders = facts.find("TgateSDDeepCacheLoader", "TgateSDXLDeepCacheLoader")
    call = tgate_call(facts)
    if not loaders or call is None:
        return None
    return {**params(loaders[-1], LOADER), **params(call, CALL)}
