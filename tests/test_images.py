import math

import numpy as np
import pytest
from PIL import Image

from diffbench.images import canny_edges, psnr, ssim, synthetic_photo


def test_synthetic_photo_is_deterministic_per_seed():
    assert np.array_equal(np.asarray(synthetic_photo(64, 3)), np.asarray(synthetic_photo(64, 3)))
    assert not np.array_equal(np.asarray(synthetic_photo(64, 3)), np.asarray(synthetic_photo(64, 4)))


def test_canny_gives_a_binary_three_channel_edge_map():
    edges = np.asarray(canny_edges(synthetic_photo(128)))
    assert edges.shape == (128, 128, 3)
    assert set(np.unique(edges)) <= {0, 255} and edges.max() == 255


def test_fidelity_metrics():
    a = synthetic_photo(64)
    noisy = Image.fromarray(np.clip(np.asarray(a).astype(int) + 8, 0, 255).astype(np.uint8))
    assert math.isinf(psnr(a, a)) and ssim(a, a) == pytest.approx(1.0)
    assert 25 < psnr(a, noisy) < 40
    assert ssim(a, noisy) < 1.0
    with pytest.raises(ValueError, match="differ in size"):
        psnr(a, synthetic_photo(32))
