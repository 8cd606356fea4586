from __future__ import annotations

import numpy as np
import torch
from rs_clip_models.models import TINY_MODEL, create_model

from rs_clip_eval.embed import decode_image, encode_images, encode_texts
from rs_formats import DatasetWriter, open_dataset
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
