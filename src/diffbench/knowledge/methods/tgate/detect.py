from diffbench.knowledge.detection import tgate_loader


def detect(pipe):
    loader = tgate_loader(pipe)
    if loader is None or loader.endswith("_DeepCache"):
        return None
    return {"loader": loader}  # gate_step and intervals are arguments of pipe.tgate(): confirmed at call time
