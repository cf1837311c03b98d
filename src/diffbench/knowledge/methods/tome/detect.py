from diffbench.knowledge.detection import denoiser


def detect(pipe):
    unet = denoiser(pipe)
    if unet is None or not any(type(m).__name__ == "ToMeBlock" for m in unet.modules()):
        return None  # tomesd.remove_patch leaves _tome_info behind: the patched blocks are the evidence
    args = unet._tome_info["args"]
    return {"ratio": args["ratio"], "max_downsample": args["max_downsample"]}
