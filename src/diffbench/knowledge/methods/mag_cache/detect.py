from diffbench.knowledge.detection import denoiser, hooks_named


def detect(pipe):
    module = denoiser(pipe)
    hooks = hooks_named(module, "mag_cache_leader_block_hook") if module is not None else []
    if not hooks:
        return None
    return {"threshold": hooks[0].config.threshold} if hasattr(hooks[0], "config") else {}
