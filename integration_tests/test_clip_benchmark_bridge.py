"""The bridge to CLIP_benchmark both ways: an rs-dataset exported as a wds_ set is read by clip_benchmark's own
loader (the same pixels: the same embeddings, image by image) and scored by its own zero-shot evaluation as
rs-clip-eval scores the dataset, and the wds_ set read back by ``rs-annotate convert clip-benchmark-wds``
scores the same again."""

from __future__ import annotations

import builtins

import numpy as np
import pytest
import torch

import rs_clip_eval
from rs_annotate import convert, export_webdataset
from rs_clip_eval import Embedder, EmbeddingCache, EvalConfig
from rs_clip_models.models import load_spec
from rs_clip_models.spec import ModelSpec
from rs_formats import open_dataset
from rs_synth.evalsets import write_classification_dataset

CLASSES = ("plane", "ship", "storage tank", "tennis court", "harbor", "bridge")
TEMPLATES = ["a satellite photo of {c}.", "an aerial view of the {c}."]


def test_zero_shot_is_the_same_through_clip_benchmark_and_back(tmp_path, monkeypatch):
    from clip_benchmark.datasets.builder import build_dataset
    from clip_benchmark.metrics import zeroshot_classification

    # clip-benchmark 1.6.2's accuracy() calls float() on a 1-element array, an error under NumPy 2.
    monkeypatch.setattr(
        zeroshot_classification, "float", lambda v: builtins.float(np.asarray(v).reshape(())), raising=False
    )
    data = tmp_path / "scenes"
    write_classification_dataset(data, n_train=6, n_test=36, classes=CLASSES, size=32)
    wds_root = tmp_path / "wds_scenes"
    export_webdataset(data, wds_root, splits=["test"], shard_size=10)
    (wds_root / "zeroshot_classification_templates.txt").write_text("\n".join(TEMPLATES) + "\n")

    spec = ModelSpec.parse("RS-Tiny")
    model, preprocess, tokenizer = load_spec(spec, "cpu")
    wds = build_dataset("wds/scenes", root=str(wds_root), transform=preprocess, split="test")
    assert wds.classes == list(CLASSES) and wds.templates == TEMPLATES
    loader = torch.utils.data.DataLoader(wds.batched(8), batch_size=None, shuffle=False, num_workers=0)
    with torch.no_grad():  # the images as clip_benchmark reads them, embedded
        batches = [(model.encode_image(x), y) for x, y in loader]
    their_images = torch.nn.functional.normalize(torch.cat([f for f, _ in batches]), dim=-1).numpy()
    their_labels = torch.cat([y for _, y in batches]).numpy()
    with torch.no_grad():
        theirs = zeroshot_classification.evaluate(
            model, loader, tokenizer, wds.classes, wds.templates, "cpu", amp=False
        )

    convert("clip-benchmark-wds", wds_root, tmp_path / "back", workers=1)
    ours = [t.replace("{c}", "{}") for t in TEMPLATES]
    cfg = EvalConfig(device="cpu", loader_workers=0, progress=False)
    for dataset in (data, tmp_path / "back"):
        table = rs_clip_eval.run(
            "RS-Tiny",
            dataset,
            tasks=["zeroshot"],
            templates=ours,
            config=cfg,
            cache=EmbeddingCache(enabled=False),
        )
        ds = open_dataset(dataset)
        np.testing.assert_array_equal(ds.read_table("test", ["label"])[0].to_numpy(), their_labels)
        np.testing.assert_allclose(Embedder(spec, None, cfg).images(ds, "test"), their_images, atol=1e-5)
        got = {r["metric"]: r["value"] for r in table.to_pylist()}
        assert got["top1"] == pytest.approx(100 * theirs["acc1"], abs=1e-6), dataset
        assert got["top5"] == pytest.approx(100 * theirs["acc5"], abs=1e-6), dataset
        assert got["mean_per_class_recall"] == pytest.approx(100 * theirs["mean_per_class_recall"], abs=1e-6)
