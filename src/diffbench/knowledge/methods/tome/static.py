from diffbench.evaluation.static.detection import params

APPLY_PATCH = {"ratio": (1, 0.5), "max_downsample": (2, 1)}  # tomesd.apply_patch defaults


def detect(facts):
    calls = facts.find("tomesd.apply_patch")
    return params(calls[-1], APPLY_PATCH) if calls else None
