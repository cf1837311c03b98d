from diffbench.knowledge.detection import denoiser, hooks_named


def detect(pipe):
    module = denoiser(pipe)
    hooks = hooks_named(module, "taylorseer_cache") if module is not None else []
    if not hooks:
        return None
    return {"hooks": len(hooks)}
