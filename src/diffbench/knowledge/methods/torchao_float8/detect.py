from diffbench.knowledge.detection import weights_of_class


def detect(pipe):
    layers = weights_of_class(pipe, ("Float8Tensor", "LinearActivationQuantizedTensor", "AffineQuantizedTensor"))
    return {"layers": layers} if layers else None
