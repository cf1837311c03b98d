"""DiffBench: a benchmark for LLM-written diffusion acceleration code."""

import logging

__version__ = "0.1.0"

# diffusers imports torchao whenever it is installed; on a CPU torch, torchao warns at import that its CUDA
# kernels do not load (expected: they are CUDA kernels), and torch's pytree warns about torchao's enums. Neither
# is about anything this project does, and both appeared in every process's stderr; diffusers 0.42.1's torchao
# quantizer warns that torchao 0.18 moved tensor classes it registers for loading torchao-serialized checkpoints
# (this project saves none). Keep the three to errors.
for _name in ("torchao", "torch.utils._pytree", "diffusers.quantizers.torchao.torchao_quantizer"):
    logging.getLogger(_name).setLevel(logging.ERROR)
