from diffbench.evaluation.static.detection import names_end_with


def detect(facts):
    calls = [c for c in facts.find("to") if names_end_with(c.kwargs.get("memory_format"), "channels_last")]
    calls += [c for c in facts.find("to") if any(names_end_with(a, "channels_last") for a in c.args)]
    return {} if calls else None
