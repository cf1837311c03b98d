"""Image helpers shared by the model check, the benchmarks and the evaluator: inputs, output files and fidelity
metrics."""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

import numpy as np
from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

# scikit-image is imported where its metrics are used: a sandboxed worker imports this module for save_output
# and should not pay for it.


def synthetic_photo(size: int, seed: int = 0) -> Image.Image:
    """A deterministic 'photo' (sky gradient, ground, a few shapes) for image-to-image and ControlNet inputs."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, size)[:, None, None]
    sky = np.array([90, 150, 230]) * (1 - y) + np.array([230, 240, 250]) * y
    img = Image.fromarray(np.broadcast_to(sky, (size, size, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, int(size * 0.65), size, size], fill=(70, 120, 60))
    for _ in range(4):
        x0, y0 = rng.integers(0, size * 3 // 4, size=2)
        w, h = rng.integers(size // 8, size // 3, size=2)
        color = tuple(int(c) for c in rng.integers(0, 256, size=3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape([int(x0), int(y0), int(x0 + w), int(y0 + h)], fill=color, outline=(20, 20, 20))
    return img


# One output of a solution's generate(): an image, or a video as its frames (the solution contract).
Output: TypeAlias = Image.Image | list[Image.Image]
FRAMES_KEY = "diffbench-frames"  # a video file's PNG text chunk: how many frames its filmstrip holds


def save_output(output: Output, path: Path) -> None:
    """An image as a PNG; a video's frames, top to bottom, as one lossless filmstrip PNG whose text chunk says
    how many frames it holds (an animated PNG would merge identical consecutive frames and lose the count)."""
    if isinstance(output, Image.Image):
        output.save(path)
        return
    frames = [f.convert("RGB") for f in output]
    width, height = frames[0].size
    if any(f.size != (width, height) for f in frames):
        raise ValueError(f"a video's frames differ in size: {sorted({f.size for f in frames})}")
    strip = Image.new("RGB", (width, height * len(frames)))
    for i, frame in enumerate(frames):
        strip.paste(frame, (0, i * height))
    info = PngInfo()
    info.add_text(FRAMES_KEY, str(len(frames)))
    strip.save(path, pnginfo=info)


def read_output(path: Path) -> Output:
    """What save_output wrote: the image, or the video's frames."""
    with Image.open(path) as img:
        img.load()
        count = getattr(img, "text", {}).get(FRAMES_KEY)
        if count is None:
            return img.copy()
        n = int(count)
        width, total = img.size
        height = total // n
        return [img.crop((0, i * height, width, (i + 1) * height)) for i in range(n)]


def canny_edges(image: Image.Image, sigma: float = 1.5) -> Image.Image:
    """Canny edge map as a 3-channel image, the control input of ControlNet-canny."""
    from skimage.feature import canny

    gray = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    edges = canny(gray, sigma=sigma).astype(np.uint8) * 255
    return Image.fromarray(np.stack([edges] * 3, axis=-1))


def _pair(a: Image.Image, b: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    if a.size != b.size:
        raise ValueError(f"images differ in size: {a.size} vs {b.size}")
    return np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB"))


def psnr(reference: Image.Image, other: Image.Image) -> float:
    """PSNR in dB (8-bit); identical images give infinity."""
    from skimage.metrics import peak_signal_noise_ratio

    x, y = _pair(reference, other)
    if np.array_equal(x, y):
        return float("inf")
    return float(peak_signal_noise_ratio(x, y, data_range=255))


def ssim(reference: Image.Image, other: Image.Image) -> float:
    from skimage.metrics import structural_similarity

    x, y = _pair(reference, other)
    return float(structural_similarity(x, y, channel_axis=-1, data_range=255))
