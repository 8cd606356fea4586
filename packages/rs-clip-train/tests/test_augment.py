"""Training pixels decoded and augmented on the device (torchvision) against the loader's PIL path.

On a CPU, ``torchvision.io.decode_jpeg`` runs libjpeg where a GPU runs nvjpeg; the crop, resize, flip and
turns are the same tensor code on both, so these tests bound what moving the work to the GPU changes.
"""

from __future__ import annotations

import io
from itertools import islice

import numpy as np
import pytest
import torch
from conftest import write_caption_dataset
from PIL import Image

from rs_clip_train.augment import AugParams, augment, augment_on_device, pixel_box
from rs_clip_train.config import DataConfig, DataSource
from rs_clip_train.data import make_loader


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (40, 56, 3), dtype=np.uint8)).save(
        buf, "PNG"
    )
    return buf.getvalue()


@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("rot90", [0, 1, 2, 3])
def test_device_augmentation_is_the_pil_augmentation(flip, rot90):
    y, x = np.mgrid[0:70, 0:90]
    arr = np.stack([x * 2.5, y * 3.5, (x + y) * 1.5], -1).astype(np.uint8)  # an asymmetric ramp
    params = AugParams((0.13, 0.21, 0.91, 0.87), flip, rot90)
    want = augment(Image.fromarray(arr), params, 48)
    got = augment_on_device(torch.from_numpy(arr).permute(2, 0, 1), params, 48).permute(1, 2, 0).numpy()
    # Both resize the same whole-pixel box with an antialiased bicubic; only rounding differs. A wrong
    # turn direction, flip axis or crop moves pixels by tens of levels on this ramp.
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1


def test_the_pixel_box_stays_inside_and_is_never_empty():
    assert pixel_box(AugParams((0.0, 0.0, 1.0, 1.0), False, 0), 7, 5) == (0, 0, 7, 5)
    assert pixel_box(AugParams((0.99, 0.99, 0.999, 0.999), False, 0), 10, 10) == (9, 9, 10, 10)


def _batches(ds, to_device: bool, n: int = 3, **kw):
    cfg = DataConfig(sources=[DataSource(str(ds))], loader_workers=0, **kw)
    import open_clip

    loader = make_loader(
        cfg,
        micro_batch=8,
        image_size=64,
        tokenizer=open_clip.get_tokenizer("RN50"),
        seed=3,
        rank=0,
        world=1,
        start_micro_step=0,
        pin_memory=False,
        jpegs_to_device=to_device,
    )
    return list(islice(iter(loader), n))


@pytest.fixture(scope="module")
def mixed_ds(tmp_path_factory):
    # JPEG rows (rs-synth writes RSICD as JPEG) with PNG rows among them: those decode in the loader.
    return write_caption_dataset(
        tmp_path_factory.mktemp("mixed") / "ds",
        n=32,
        row_group_rows=8,
        spoil={i: {"image": _png(i)} for i in (2, 11, 12)},
    )


def test_batches_decoded_on_the_device_match_the_loader_path(mixed_ds):
    cpu, dev = _batches(mixed_ds, False), _batches(mixed_ds, True)
    assert any(b.jpegs for b in dev) and any(len(b.images) for b in dev)  # both kinds of row were seen
    assert all(not b.jpegs and len(b.images) == 8 for b in cpu)
    for a, b in zip(cpu, dev):
        images, texts, skipped = b.on_device(torch.device("cpu"), 64)
        assert skipped == [] and torch.equal(texts, a.texts)  # same rows, same captions, same order
        diff = (images.int() - a.images.int()).abs()
        # libjpeg builds differ in chroma upsampling at sharp edges (a few pixels by up to ~10 levels).
        assert diff.float().mean() < 0.5 and diff.max() <= 16, (diff.float().mean(), diff.max())


def test_a_jpeg_no_decoder_reads_is_replaced_and_named(tmp_path):
    from rs_formats import open_dataset

    ds = write_caption_dataset(tmp_path / "ds", n=16, row_group_rows=8)
    rows = open_dataset(ds).read_table("train", ["image_id", "image"]).to_pylist()
    data = rows[0]["image"]
    # Every header segment, then the end marker where the scan should be: the header passes the loader's
    # check, and neither libjpeg (nvjpeg's stand-in here) nor PIL has pixels to decode.
    broken = {
        int(rows[0]["image_id"].rsplit("/", 1)[1]): {"image": data[: data.index(b"\xff\xda")] + b"\xff\xd9"}
    }
    spoiled = write_caption_dataset(tmp_path / "spoiled", n=16, row_group_rows=8, spoil=broken)
    batches = _batches(spoiled, True, n=2)
    outs = [b.on_device(torch.device("cpu"), 64) for b in batches]
    dropped = [line for _, _, d in outs for line in d]
    assert len(dropped) == 1 and rows[0]["image_id"] in dropped[0] and "replaced" in dropped[0]
    assert all(images.shape == (8, 3, 64, 64) and len(texts) == 8 for images, texts, _ in outs)
