from diffbench.knowledge.detection import raw_denoiser


def detect(pipe):
    module = raw_denoiser(pipe)
    if module is None or not hasattr(module, "_orig_mod"):
        return None
    return {"compiled": type(module).__name__}
