from diffbench.knowledge.detection import raw_denoiser


def detect(pipe):
    backend = getattr(raw_denoiser(pipe), "_diffbench_sdpa_backend", None)
    return None if backend is None else {"backend": backend}
