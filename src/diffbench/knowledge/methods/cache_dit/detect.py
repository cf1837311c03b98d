from diffbench.knowledge.detection import denoiser


def detect(pipe):
    # cache_dit.enable_cache marks the transformer it patched (and cache_dit.disable_cache clears the mark).
    module = denoiser(pipe)
    if module is None or not getattr(module, "_is_cached", False):
        return None
    return {"cached_steps": len(getattr(module, "_cached_steps", []) or [])}
