def detect(facts):
    # The parser resolves the pipeline's dtype (from_pretrained's dtype/torch_dtype, .to(...), .half()).
    return {} if facts.dtype == "bfloat16" else None
