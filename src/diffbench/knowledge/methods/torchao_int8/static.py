def detect(facts):
    # `quantize_(module, Int8WeightOnlyConfig())`
    configs = facts.find("Int8WeightOnlyConfig")
    quantized = facts.find("torchao.quantization.quantize_") or facts.find("quantize_")
    return {} if configs and quantized else None
