from diffbench.knowledge.detection import attention_modules, denoiser


def detect(pipe):
    module = denoiser(pipe)
    attentions = list(attention_modules(module)) if module is not None else []
    fused = [a for a in attentions if getattr(a, "fused_projections", False)]
    if not fused:
        return None
    return {"fused_attentions": len(fused), "attentions": len(attentions)}
