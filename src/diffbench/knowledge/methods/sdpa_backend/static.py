from diffbench.evaluation.static.detection import names_end_with

# torch.nn.attention.SDPBackend members by the knowledge base's backend names.
BACKENDS = {"FLASH_ATTENTION": "flash", "EFFICIENT_ATTENTION": "efficient", "MATH": "math", "CUDNN_ATTENTION": "cudnn"}


def detect(facts):
    # PyTorch's own idiom: `with sdpa_kernel(SDPBackend.X):` around the pipeline call, in generate().
    for call in reversed(facts.find("sdpa_kernel", scope="generate")):
        chosen = call.arg(0, "backends")
        if isinstance(chosen, (list, tuple)) and len(chosen) == 1:
            chosen = chosen[0]
        for member, backend in BACKENDS.items():
            if names_end_with(chosen, member):
                return {"backend": backend}
    return None
