from diffbench.evaluation.static.detection import params


def detect(facts):
    calls = facts.find("compile_repeated_blocks")
    return params(calls[-1], {"fullgraph": (None, False)}) if calls else None
