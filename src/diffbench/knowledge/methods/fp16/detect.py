import torch

from diffbench.knowledge.detection import denoiser, every_call, parameter_dtype


def detect(pipe):
    module = denoiser(pipe)
    if module is None or parameter_dtype(module) != torch.float16:
        return None
    return {"dtype": "float16"}


RULE = "effect-precision"
MEASURES = "the dtype of the denoiser's parameters at every denoiser call"


def effect(pipe, trace):
    return every_call(trace, lambda call: call.dtype == "float16", "compute in float16")
