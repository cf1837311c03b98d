from diffbench.evaluation.static.detection import params, tgate_call

# pipe.tgate(...) defaults: the plain loaders, and the DeepCache loaders (which run T-GATE too).
PLAIN = {"gate_step": (None, 10), "sp_interval": (None, 5), "fi_interval": (None, 1), "warm_up": (None, 2)}
WITH_DEEPCACHE = {"gate_step": (None, 10), "sp_interval": (None, 1), "fi_interval": (None, 1), "warm_up": (None, 0)}


def detect(facts):
    loaders = [c for c in facts.calls if c.name.startswith("tgate.") and c.name.endswith("Loader")]
    call = tgate_call(facts)
    if not loaders or call is None:
        return None
    return params(call, WITH_DEEPCACHE if "DeepCache" in loaders[-1].name else PLAIN)
