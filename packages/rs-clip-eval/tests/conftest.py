from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402 - after the thread setting it must see

CLASSES = ("plane", "ship", "storage tank", "tennis court")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """A captions and a classification rs-dataset drawn with rs-synth (small: a few seconds to make)."""
    from rs_synth.evalsets import write_captions_dataset, write_classification_dataset

    root = tmp_path_factory.mktemp("data")
    write_captions_dataset(root / "caps", n_images=24, classes=CLASSES, row_group_rows=10)
    write_classification_dataset(root / "scenes", n_train=32, n_test=16, classes=CLASSES)
    return root


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """An rs-clip checkpoint of RS-Tiny whose weights differ from the seed-0 random init."""
    import torch

    from rs_clip_models.checkpoint_writer import write_checkpoint
    from rs_clip_models.models import TINY_MODEL, create_model

    torch.manual_seed(123)
    model, _, _ = create_model(TINY_MODEL)
    out = tmp_path_factory.mktemp("ckpt") / "tiny-ckpt"
    write_checkpoint(out, model.state_dict(), model_name=TINY_MODEL, step=7, config={"note": "test"})
    return out


class EmbeddingModel(torch.nn.Module):
    """Stands in for a CLIP model in clip-benchmark's evaluators: 'images' are embeddings already and
    'tokens' index a table of text embeddings, so both sides score the very same vectors."""

    def __init__(self, text_emb):
        super().__init__()
        self.text_emb = torch.as_tensor(text_emb)

    def encode_image(self, x):
        return x

    def encode_text(self, idx):
        return self.text_emb[idx]


@pytest.fixture
def embedding_model():
    return EmbeddingModel
