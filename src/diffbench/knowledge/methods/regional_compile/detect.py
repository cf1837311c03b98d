from diffbench.knowledge.detection import denoiser


def detect(pipe):
    # nn.Module.compile (what compile_repeated_blocks calls per block) sets the module's _compiled_call_impl.
    module = denoiser(pipe)
    if module is None:
        return None
    compiled = sum(getattr(m, "_compiled_call_impl", None) is not None for m in module.modules())
    return {"compiled_blocks": compiled} if compiled else None
