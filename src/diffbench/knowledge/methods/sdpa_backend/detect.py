from diffbench.knowledge.detection import pinned_kernels, single_kernel, untraced


def detect(pipe, trace=None):
    # A kernel is chosen at call time (`with sdpa_kernel(...)`): the evidence is what the attention calls inside
    # the denoiser were allowed to use. Found when some attention call had one kernel pinned.
    pinned = pinned_kernels(trace) if trace is not None else []
    return {"backend": pinned[0]} if len(pinned) == 1 else None


RULE = "effect-attention-kernel"
MEASURES = "the attention backends allowed at every attention call inside the denoiser"


def effect(pipe, trace):
    if not trace.attention_backends:
        return untraced(trace)
    backend = single_kernel(trace)
    if backend is None:
        allowed = sorted(sorted(b) for b in trace.attention_backends)
        return False, f"attention calls ran with backends {allowed} allowed, not one pinned kernel"
    return True, f"every attention call inside the denoiser ran with only {backend} allowed"
