from diffbench.knowledge.detection import tgate_loader


def detect(pipe, trace=None):
    # The callback is an argument of the call: the evidence is the denoiser's batch halving partway through.
    # T-GATE halves the batch itself after its gate (it drops the unconditional branch): not this method.
    if trace is None or tgate_loader(pipe):
        return None
    batches = [c.batch for c in trace.denoiser_calls if c.batch is not None]
    if len(batches) < 2 or min(batches) >= batches[0]:
        return None
    kept = next(i for i, b in enumerate(batches) if b < batches[0])
    return {"fraction": round(kept / len(batches), 2)}


RULE = "effect-guidance-dropped"
MEASURES = "the denoiser's batch size over the steps of one image: it halves when guidance stops"


def effect(pipe, trace):
    found = detect(pipe, trace)
    if found is None:
        return False, "the denoiser's batch never shrank: every step kept the unconditional branch"
    return True, f"guidance kept for {found['fraction']:.0%} of the steps, then the batch halved"
