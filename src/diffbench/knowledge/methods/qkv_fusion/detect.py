from diffbench.knowledge.detection import attention_modules, denoiser, untraced


def detect(pipe):
    module = denoiser(pipe)
    attentions = list(attention_modules(module)) if module is not None else []
    fused = [a for a in attentions if getattr(a, "fused_projections", False)]
    if not fused:
        return None
    return {"fused_attentions": len(fused), "attentions": len(attentions)}


RULE = "effect-fused-projection"
MEASURES = "calls of the fused to_qkv / to_kv projections inside the denoiser calls"


def effect(pipe, trace):
    calls = trace.observable
    if not calls:
        return untraced(trace)
    fused = sum(c.fused_projection_calls for c in calls)
    if fused == 0:
        return False, (
            f"the fused projections exist but none ran in {len(calls)} denoiser calls "
            "(the attention processors in use compute q, k and v separately)"
        )
    return True, f"{fused} fused-projection calls in {len(calls)} denoiser calls"
