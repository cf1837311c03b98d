import pytest

from conftest import FULL_SIZE
from diffbench.evaluation.fidelity_ladder import LADDER_PROMPTS, ladder, strictly_decreasing


@pytest.mark.slow
def test_fidelity_falls_steadily_with_aggressiveness(profile):
    """The damped stand-ins are a usable quality signal: PSNR to DDIM-50 falls at every rung of both ladders."""
    rungs = ladder(profile, LADDER_PROMPTS if FULL_SIZE else LADDER_PROMPTS[:1])
    for name, steps in rungs.items():
        assert strictly_decreasing(steps), (name, steps)
    # Not chaotic: even the most aggressive rung stays far above unrelated-image PSNR (~14 dB on random weights).
    assert min(r.psnr_db for rs in rungs.values() for r in rs) > 20
