from diffbench.knowledge.detection import denoiser, hooks_named


def detect(pipe):
    module = denoiser(pipe)
    hooks = hooks_named(module, "fbc_leader_block_hook") if module is not None else []
    if not hooks:
        return None
    return {"threshold": hooks[0].threshold}
