from diffbench.evaluation.static.detection import params

COMPILE = {"mode": (None, "default"), "fullgraph": (None, False)}  # torch.compile / nn.Module.compile defaults


def detect(facts):
    calls = facts.find("torch.compile") or [c for c in facts.find("compile") if not c.name.startswith("builtins.")]
    if not calls:
        return None
    found = params(calls[-1], COMPILE)
    if found.get("mode") is None and "mode" in found:
        found["mode"] = "default"  # torch.compile(mode=None) is the default mode
    return found
