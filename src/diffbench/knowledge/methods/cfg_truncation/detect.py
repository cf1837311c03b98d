def detect(pipe):
    # The callback is an argument of the call: it marks the pipeline when it runs (call-time evidence).
    fraction = getattr(pipe, "_diffbench_cfg_truncation", None)
    return None if fraction is None else {"fraction": fraction}
