from diffbench.knowledge.detection import denoiser, hooks_named


def detect(pipe):
    module = denoiser(pipe)
    hooks = hooks_named(module, "faster_cache_denoiser") if module is not None else []
    if not hooks:
        return None
    return {"blocks": len(hooks_named(module, "faster_cache_block"))}
