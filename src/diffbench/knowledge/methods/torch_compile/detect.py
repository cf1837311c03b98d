from diffbench.knowledge.detection import NEVER_RAN, raw_denoiser


def detect(pipe):
    module = raw_denoiser(pipe)
    if module is None or not hasattr(module, "_orig_mod"):
        return None
    return {"compiled": type(module).__name__}


RULE = "effect-compiled"
MEASURES = "denoiser calls made through the compiled module, and graphs torch.compile built"


def effect(pipe, trace):
    calls = trace.denoiser_calls
    if not calls:
        return False, NEVER_RAN
    through = sum(c.compiled for c in calls)
    if through == 0 or trace.compiled_graphs == 0:
        return (
            False,
            f"{through} of {len(calls)} denoiser calls went through the compiled module, "
            f"{trace.compiled_graphs} graphs compiled",
        )
    return True, f"{through} of {len(calls)} denoiser calls ran compiled ({trace.compiled_graphs} graphs built)"
