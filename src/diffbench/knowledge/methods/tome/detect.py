from diffbench.knowledge.detection import denoiser, untraced


def detect(pipe):
    unet = denoiser(pipe)
    if unet is None or not any(type(m).__name__ == "ToMeBlock" for m in unet.modules()):
        return None  # tomesd.remove_patch leaves _tome_info behind: the patched blocks are the evidence
    args = unet._tome_info["args"]
    return {"ratio": args["ratio"], "max_downsample": args["max_downsample"]}


RULE = "effect-merged-tokens"
MEASURES = "self-attention query lengths: a merged block attends over fewer tokens than any latent grid level"


def effect(pipe, trace):
    if not trace.self_attention_tokens:
        return untraced(trace)
    grid = trace.grid_tokens()
    merged = sorted(n for n in trace.self_attention_tokens if n not in grid)
    if not merged:
        return False, (
            f"every self-attention ran over a full latent grid ({sorted(trace.self_attention_tokens)} tokens): "
            "no token was merged"
        )
    return True, f"self-attention ran over merged token counts {merged}"
