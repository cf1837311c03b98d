from diffbench.evaluation.static.detection import params


def detect(facts):
    # The callback object goes into the generating call as callback_on_step_end.
    for call in reversed(facts.generation_calls):
        callback = call.kwargs.get("callback_on_step_end")
        maker = getattr(callback, "call", None)
        if maker is not None and maker.matches("TruncateGuidance"):
            return params(maker, {"fraction": (0, None)})
    return None
