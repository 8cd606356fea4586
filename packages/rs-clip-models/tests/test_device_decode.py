"""The device path (torchvision's decode_jpeg + tensor resize) against the PIL path (open_clip's preprocess).

On a CPU ``decode_jpeg`` runs libjpeg where a GPU runs nvjpeg; everything after the decoder is the same
code on both, so these tests bound what the device path changes: decoder and filter rounding.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from rs_clip_models.device_decode import decode_jpegs, device_plan, is_jpeg
from rs_clip_models.encoding import decode_image, encode_images
from rs_clip_models.models import TINY_MODEL, create_model
from rs_formats import DatasetWriter, FormatError, open_dataset
from rs_synth.evalsets import scene_rows


def scene(seed: int, w: int, h: int) -> np.ndarray:
    """Smooth fields plus edges and noise: what remote-sensing tiles look like to a JPEG coder."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    base = np.stack([np.sin(6 * x + seed), np.cos(5 * y - seed), np.sin(4 * (x + y))], -1) * 80 + 128
    base[h // 3 : h // 2, w // 4 : w // 2] = rng.integers(0, 255, 3)  # a field with sharp borders
    return np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)


def jpeg_bytes(seed: int, w: int = 256, h: int = 256, mode: str = "RGB", quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(scene(seed, w, h)).convert(mode).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="module")
def vit_preprocess():
    import open_clip

    return open_clip.image_transform(224, is_train=False)


def test_the_plan_matches_open_clip_evaluation_preprocessing_only(vit_preprocess):
    import open_clip

    plan = device_plan(vit_preprocess)
    assert plan is not None and plan.size == 224
    np.testing.assert_allclose(plan.mean, open_clip.OPENAI_DATASET_MEAN)
    assert device_plan(open_clip.image_transform(224, is_train=True)) is None  # random crops: not ours
    assert device_plan(open_clip.image_transform(224, is_train=False, resize_mode="squash")) is None
    assert device_plan(lambda img: img) is None


@pytest.mark.parametrize(("w", "h", "mode"), [(256, 256, "RGB"), (300, 180, "RGB"), (97, 131, "L")])
def test_device_pixels_match_pil_within_decoder_tolerance(vit_preprocess, w, h, mode):
    data = [jpeg_bytes(s, w, h, mode) for s in range(4)]
    plan = device_plan(vit_preprocess)
    got = plan(decode_jpegs(data, "cpu"))
    want = torch.stack([vit_preprocess(decode_image(d)) for d in data])
    assert got.shape == want.shape == (4, 3, 224, 224)
    # In grey levels: decoders (IDCT, chroma upsampling) and bicubic rounding differ by a few levels at
    # most, and rarely; a wrong crop, filter or channel order moves many pixels by tens of levels.
    levels = ((got - want) * torch.tensor(plan.std).view(1, 3, 1, 1) * 255).abs()
    assert levels.mean() < 0.5
    assert levels.max() <= 3


def test_rows_the_decoder_refuses_come_back_as_none():
    good = jpeg_bytes(1, 64, 64)
    broken = good[:200]  # a header and the start of the scan
    out = decode_jpegs([good, broken, b"\xff\xd8\xffnot a jpeg"], "cpu")
    assert out[0] is not None and out[0].shape == (3, 64, 64)
    assert out[2] is None
    assert is_jpeg(good) and not is_jpeg(b"\x89PNG")


def test_embedding_with_device_decoding_matches_pil_and_keeps_row_order(tmp_path):
    # JPEG rows of two sizes, PNG rows between them, CMYK JPEGs (decoded on the CPU path): all in order.
    rows = list(scene_rows(("plane", "ship"), 14, seed=0, size=16, image_format="png"))
    for i, row in enumerate(rows):
        kind = i % 4
        if kind < 3:
            row["image"] = (
                jpeg_bytes(i, 96, 80)
                if kind == 0
                else jpeg_bytes(i, 70, 70)
                if kind == 1
                else jpeg_bytes(i, 64, 64, mode="CMYK")
            )
    with DatasetWriter(tmp_path / "ds", name="t", row_group_rows=4) as w:
        w.write_many(rows, split="test")
    ds = open_dataset(tmp_path / "ds")
    torch.manual_seed(0)
    model, preprocess, _ = create_model(TINY_MODEL)
    device = encode_images(
        model, preprocess, ds, "test", batch_size=5, num_workers=2, progress=False, decode_on_device=True
    )
    pil = encode_images(
        model, preprocess, ds, "test", batch_size=5, num_workers=0, progress=False, decode_on_device=False
    )
    cos = (device * pil).sum(1)
    assert cos.min() > 0.999, cos
    # Row order: every row is nearer its own PIL embedding than any other row's.
    assert (np.argmax(device @ pil.T, axis=1) == np.arange(len(rows))).all()


def test_a_row_broken_for_both_decoders_is_named(tmp_path):
    rows = [dict(r, image=jpeg_bytes(i, 64, 64)) for i, r in enumerate(scene_rows(("plane",), 3, seed=0))]
    rows[1]["image"] = rows[1]["image"][:300]
    with DatasetWriter(tmp_path / "ds", name="t", row_group_rows=4) as w:
        w.write_many(rows, split="test")
    ds = open_dataset(tmp_path / "ds")
    model, preprocess, _ = create_model(TINY_MODEL)
    with pytest.raises(FormatError, match="img/000001"):
        encode_images(
            model, preprocess, ds, "test", batch_size=4, num_workers=0, progress=False, decode_on_device=True
        )
