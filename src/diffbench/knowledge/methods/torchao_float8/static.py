def detect(facts):
    # `quantize_(module, Float8DynamicActivationFloat8WeightConfig())`
    configs = facts.find("Float8DynamicActivationFloat8WeightConfig")
    quantized = facts.find("torchao.quantization.quantize_") or facts.find("quantize_")
    return {} if configs and quantized else None
