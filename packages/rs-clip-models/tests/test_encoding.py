from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from rs_clip_models.encoding import decode_image, encode_images, encode_texts
from rs_clip_models.models import TINY_MODEL, create_model
from rs_formats import DatasetWriter, FormatError, open_dataset
from rs_synth.evalsets import scene_rows


def test_embeddings_come_back_in_dataset_order(tmp_path):
    rows = list(scene_rows(("plane", "ship"), 23, seed=0, size=16, image_format="png"))
    with DatasetWriter(tmp_path / "ds", name="t", row_group_rows=4) as w:
        w.write_many(rows, split="test")
    ds = open_dataset(tmp_path / "ds")
    torch.manual_seed(0)
    model, preprocess, tokenizer = create_model(TINY_MODEL)
    got = encode_images(model, preprocess, ds, "test", batch_size=5, num_workers=2, progress=False)
    with torch.no_grad():
        batch = torch.stack([preprocess(decode_image(r["image"])) for r in rows])
        want = model.encode_image(batch, normalize=True).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    texts = encode_texts(model, tokenizer, ["one plane", "two ships", "three tanks"], batch_size=2)
    assert texts.shape == (3, 64)


def test_a_bomb_in_a_dataset_stops_embedding_with_one_error_naming_the_row(tmp_path):
    rows = list(scene_rows(("plane", "ship"), 6, seed=0, size=16, image_format="png"))
    img = Image.new("RGB", (1, 1))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    # A PNG whose header declares 50000x50000 pixels (PIL decodes nothing until asked): a decompression bomb.
    head = bytearray(buf.getvalue())
    head[16:24] = struct.pack(">II", 50_000, 50_000)
    head[29:33] = struct.pack(">I", zlib.crc32(bytes(head[12:29])))
    rows[4]["image"] = bytes(head)
    with DatasetWriter(tmp_path / "ds", name="t", row_group_rows=2) as w:
        w.write_many(rows, split="test")
    ds = open_dataset(tmp_path / "ds")
    torch.manual_seed(0)
    model, preprocess, _ = create_model(TINY_MODEL)
    for workers in (0, 2):  # in this process, and in DataLoader workers (no traceback of theirs)
        with pytest.raises(FormatError) as info:
            encode_images(model, preprocess, ds, "test", batch_size=2, num_workers=workers, progress=False)
        assert str(info.value) == (
            f"{ds.path}: split 'test', image 'img/000004': image declares 50000x50000 "
            "= 2,500,000,000 pixels, over the limit of 67,108,864 (a decompression bomb, or "
            "a scene to tile first); refusing to decode it"
        )
