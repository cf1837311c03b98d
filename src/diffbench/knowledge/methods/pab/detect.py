from diffbench.knowledge.detection import attention_skipped, denoiser, hooks_named


def detect(pipe):
    module = denoiser(pipe)
    hooks = hooks_named(module, "pyramid_attention_broadcast") if module is not None else []
    if not hooks:
        return None
    first = hooks[0]
    low, high = first.timestep_skip_range
    return {"spatial_skip": first.block_skip_range, "timestep_low": low, "timestep_high": high, "blocks": len(hooks)}


RULE = "effect-skipped-attention"
MEASURES = (
    "attention calls per denoiser call within one image: broadcast steps reuse self-attention instead of computing it"
)


def effect(pipe, trace):
    return attention_skipped(trace)
