import torch

from diffbench.knowledge.detection import denoiser, parameter_dtype


def detect(pipe):
    module = denoiser(pipe)
    if module is None or parameter_dtype(module) != torch.float16:
        return None
    return {"dtype": "float16"}
