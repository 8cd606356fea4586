"""Evaluation images as the official protocol feeds them: a converted evaluation set embeds exactly as its
original files do (the authors' script opens the original files and hands them to CLIP's preprocessing).

rs-synth writes the sources, rs-annotate converts them with its defaults, and the tiny RS-Tiny CLIP embeds
the dataset's rows (rs_clip_models.encoding, as rs-clip-eval does) and the original files (PIL + the same
preprocessing). The training-style re-encoding is the control: it must not pass the same check.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from rs_annotate import convert
from rs_clip_models.encoding import encode_images
from rs_clip_models.models import create_model
from rs_formats import open_dataset
from rs_synth.registry import FORMATS


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    net, preprocess, _ = create_model("RS-Tiny")
    return net, preprocess


def embed_files(model, paths) -> np.ndarray:
    net, preprocess = model
    with torch.no_grad():
        batch = torch.stack([preprocess(Image.open(p)) for p in paths])
        return net.encode_image(batch, normalize=True).float().numpy()


def embed_rows(model, path, split) -> np.ndarray:
    net, preprocess = model
    ds = open_dataset(path)
    return encode_images(
        net, preprocess, ds, split, batch_size=ds.num_rows(split), num_workers=0, progress=False
    )


@pytest.mark.parametrize("fmt", ["imagefolder", "rsitmd"])
def test_converted_evaluation_sets_embed_as_their_original_files(model, tmp_path, fmt):
    truth = FORMATS[fmt].write(tmp_path / "src", 16, seed=3, size=300)  # JPEG scenes; RSITMD-style TIFFs
    convert(fmt, tmp_path / "src", tmp_path / "eval", workers=1, progress=False)
    convert(fmt, tmp_path / "src", tmp_path / "reencoded", workers=1, progress=False, keep_original=False)
    split = "test"
    by_name = {im.image.rsplit("/", 1)[-1]: tmp_path / "src" / im.image for im in truth.images}
    rows = open_dataset(tmp_path / "eval").read_table(split, ["image_id", "meta"]).to_pylist()
    if fmt == "imagefolder":
        originals = [by_name[json.loads(r["meta"])["file"]] for r in rows]
    else:
        originals = [by_name[r["image_id"].split("/", 1)[1] + ".tif"] for r in rows]
    assert len(originals) >= 2
    expected = embed_files(model, originals)
    assert np.allclose(embed_rows(model, tmp_path / "eval", split), expected, atol=1e-6, rtol=0)
    # Control: the bounded re-encoding (what training sets store) changes the embeddings.
    assert not np.allclose(embed_rows(model, tmp_path / "reencoded", split), expected, atol=1e-4, rtol=0)
