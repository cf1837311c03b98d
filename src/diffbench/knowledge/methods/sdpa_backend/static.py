from diffbench.evaluation.static.detection import names_end_with, params

# torch.nn.attention.SDPBackend members by the knowledge base's backend names.
BACKENDS = {"FLASH_ATTENTION": "flash", "EFFICIENT_ATTENTION": "efficient", "MATH": "math", "CUDNN_ATTENTION": "cudnn"}


def detect(facts):
    pinned = facts.find("pin_sdpa_backend")
    if pinned:
        return params(pinned[-1], {"backend": (1, None)})
    for call in reversed(facts.find("sdpa_kernel", scope="generate")):
        chosen = call.arg(0, "backends")
        for member, backend in BACKENDS.items():
            if names_end_with(chosen, member):
                return {"backend": backend}
    return None
