import io
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import write_caption_dataset
from PIL import Image

from rs_clip_train.augment import AugParams, augment, pixel_box, sample_aug
from rs_clip_train.config import ConfigError, DataConfig, DataSource
from rs_clip_train.data import make_loader, open_caption_dataset
from rs_clip_train.streams import MixedStream, SourceStream, partition


@pytest.fixture(scope="module")
def many_groups(tmp_path_factory) -> Path:
    # 16 row groups of 4 rows: enough for whole groups to be dealt to 2 readers.
    return write_caption_dataset(
        tmp_path_factory.mktemp("d") / "many", n=64, seed=1, row_group_rows=4, name="many"
    )


def _ids(stream: SourceStream, n: int) -> list[str]:
    return [row[0] for row in islice(stream.rows(0), n)]


def test_rotations_are_exact_quarter_turns():
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8))
    full = (0.0, 0.0, 1.0, 1.0)
    base = augment(img, AugParams(full, False, 0), 24)
    assert np.array_equal(base, np.asarray(img))  # a full-box resize to the same size changes nothing
    for k in range(4):
        assert np.array_equal(augment(img, AugParams(full, False, k), 24), np.rot90(base, k))
    flipped = augment(img, AugParams(full, True, 1), 24)
    assert np.array_equal(flipped, np.rot90(base[:, ::-1], 1))
    # Sampled parameters with a full crop only ever produce the 8 symmetries of the square.
    cfg = DataConfig(crop_scale=(1.0, 1.0))
    seen = set()
    for seed in range(40):
        p = sample_aug(np.random.default_rng(seed), cfg, 24, 24)
        out = augment(img, p, 24)
        ref = np.rot90(base[:, ::-1] if p.flip else base, p.rot90)
        assert np.array_equal(out, ref)
        seen.add((p.flip, p.rot90))
    assert len(seen) == 8


@pytest.mark.parametrize("width, height", [(1600, 900), (800, 600), (720, 1280)])
def test_crops_follow_torchvision_random_resized_crop(width, height):
    """The crops' area, aspect and centre-crop fallback rate against torchvision's own draws."""
    from torchvision.transforms import RandomResizedCrop

    n, scale = 3000, (0.9, 1.0)
    rng, torch_boxes = np.random.default_rng(0), []
    img = torch.empty(3, height, width)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        for _ in range(n):
            top, left, h, w = RandomResizedCrop.get_params(img, scale, (3 / 4, 4 / 3))
            torch_boxes.append((left, top, left + w, top + h))
    cfg = DataConfig(crop_scale=scale)
    ours = [pixel_box(sample_aug(rng, cfg, width, height), width, height) for _ in range(n)]

    def stats(boxes):
        b = np.array(boxes, dtype=float)
        w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
        fallback = np.mean([box == boxes_fallback for box in boxes])
        return np.mean(w * h) / (width * height), np.mean(np.log(w / h)), fallback

    aspect = width / height  # torchvision's fallback: the centre crop, its aspect clamped to [3/4, 4/3]
    fw, fh = (round(height * 4 / 3), height) if aspect > 4 / 3 else (width, min(height, round(width * 4 / 3)))
    boxes_fallback = ((width - fw) // 2, (height - fh) // 2, (width - fw) // 2 + fw, (height - fh) // 2 + fh)
    (area_t, log_t, fb_t), (area_o, log_o, fb_o) = stats(torch_boxes), stats(ours)
    assert abs(area_t - area_o) < 0.005 and abs(log_t - log_o) < 0.01 and abs(fb_t - fb_o) < 0.03
    assert fb_t == 1.0 if aspect > 4 / 3 or aspect < 3 / 4 else 0.2 < fb_t < 0.6  # the fallback is exercised


def test_partition_gives_every_row_to_exactly_one_reader():
    for sizes, readers in [([32] * 6, 2), ([4] * 16, 2), ([5, 7, 3], 4), ([10] * 40, 3)]:
        seen = []
        for r in range(readers):
            for u in partition(sizes, r, readers):
                seen += [(u.group, i) for i in range(u.offset, u.group_rows, u.stride)]
        assert sorted(seen) == [(g, i) for g, n in enumerate(sizes) for i in range(n)]
    assert all(u.stride == 1 for u in partition([4] * 16, 0, 2))  # enough groups: whole shards per reader
    assert all(u.stride == 2 for u in partition([32] * 6, 0, 2))  # too few: rows interleaved


@pytest.mark.parametrize("fixture", ["caption_ds", "many_groups"])
def test_each_row_read_once_per_epoch_across_workers(request, fixture):
    ds = open_caption_dataset(request.getfixturevalue(fixture), "train")
    total = ds.num_rows("train")
    readers = [SourceStream(ds, "train", 0, r, 2, seed=3, window=2) for r in range(2)]
    assert sum(s.pass_rows for s in readers) == total
    per_reader = [_ids(s, s.pass_rows) for s in readers]
    assert not set(per_reader[0]) & set(per_reader[1])
    assert sorted(per_reader[0] + per_reader[1]) == sorted(
        ds.read_table("train", ["image_id"]).column("image_id").to_pylist()
    )
    # The next pass covers the same rows in a new order.
    two_passes = _ids(readers[0], 2 * readers[0].pass_rows)
    first, second = two_passes[: readers[0].pass_rows], two_passes[readers[0].pass_rows :]
    assert sorted(first) == sorted(second) and first != second


def test_mixing_respects_weights(caption_ds, many_groups):
    sources = [
        SourceStream(open_caption_dataset(p, "train"), "train", i, 0, 1, seed=0, window=2)
        for i, p in enumerate([caption_ds, many_groups])
    ]
    picks = [d for _, d, _ in islice(iter(MixedStream(sources, [3.0, 1.0], seed=0, reader=0)), 4000)]
    share = picks.count(0) / len(picks)
    assert abs(share - 0.75) < 0.03  # binomial sd at n=4000 is 0.007


def test_streams_resume_exactly_at_any_position(caption_ds, many_groups):
    def stream(start):
        sources = [
            SourceStream(open_caption_dataset(p, "train"), "train", i, 1, 2, seed=5, window=2)
            for i, p in enumerate([caption_ds, many_groups])
        ]
        return [
            (i, d, row[0])
            for i, d, row in islice(iter(MixedStream(sources, [1, 2], 5, 1, start)), 300 - start)
        ]

    full = stream(0)
    for start in (1, 37, 150):
        assert stream(start) == full[start:]


def _cfg(path: Path, loader_workers: int) -> DataConfig:
    return DataConfig(
        sources=[DataSource(str(path))], loader_workers=loader_workers, prefetch_factor=2, shuffle_window=2
    )


def test_loader_batches_resume_exactly_with_background_workers(caption_ds):
    from open_clip import get_tokenizer

    from rs_clip_models.models import register_tiny_configs

    register_tiny_configs()
    tok = get_tokenizer("RS-Tiny")
    kw = dict(micro_batch=8, image_size=32, tokenizer=tok, seed=0, rank=1, world=2, pin_memory=False)
    full = list(islice(iter(make_loader(_cfg(caption_ds, 2), start_micro_step=0, **kw)), 7))
    tail = list(islice(iter(make_loader(_cfg(caption_ds, 2), start_micro_step=3, **kw)), 4))
    for a, b in zip(full[3:], tail):
        assert torch.equal(a.images, b.images) and torch.equal(a.texts, b.texts)
    b0 = full[0]
    assert b0.images.shape == (8, 3, 32, 32) and b0.images.dtype == torch.uint8
    assert b0.texts.shape == (8, 32) and b0.skipped == []
    # The in-process path (no loader workers) is the same stream as one background worker.
    inproc = list(islice(iter(make_loader(_cfg(caption_ds, 0), start_micro_step=0, **kw)), 2))
    one = list(islice(iter(make_loader(_cfg(caption_ds, 1), start_micro_step=0, **kw)), 2))
    assert all(torch.equal(a.images, b.images) for a, b in zip(inproc, one))


def test_rows_without_captions_or_decodable_images_are_skipped_and_counted(tmp_path):
    from open_clip import get_tokenizer

    from rs_clip_models.models import register_tiny_configs
    from rs_formats import DatasetWriter

    register_tiny_configs()
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(buf, format="PNG")
    with DatasetWriter(tmp_path / "d", name="d", kind="captions") as w:
        for i in range(12):
            caps = [] if i == 3 else ["a red square"]
            data = b"not an image" if i == 5 else buf.getvalue()
            w.write(
                {
                    "image_id": f"d/{i}",
                    "source": "d",
                    "image": data,
                    "width": 16,
                    "height": 16,
                    "captions": caps,
                }
            )
    loader = make_loader(
        _cfg(tmp_path / "d", 0),
        micro_batch=10,
        image_size=16,
        tokenizer=get_tokenizer("RS-Tiny"),
        seed=0,
        rank=0,
        world=1,
        start_micro_step=0,
        pin_memory=False,
    )
    batch = next(iter(loader))
    assert batch.images.shape[0] == 10 and len(batch.skipped) == 2
    ds = tmp_path / "d"
    no_caption, undecodable = sorted(batch.skipped)
    assert no_caption == f"{ds}: split 'train': image 'd/3' has no caption"
    assert undecodable.startswith(f"{ds}: split 'train': image 'd/5'") and "decode" in undecodable


def test_wrong_kind_and_missing_split_are_clear_errors(tmp_path):
    ds = write_caption_dataset(tmp_path / "cls", n=8, kind="classification", name="cls")
    with pytest.raises(ConfigError, match="is a 'classification' dataset"):
        open_caption_dataset(ds, "train")
    with pytest.raises(ConfigError, match="has no split 'val'"):
        open_caption_dataset(write_caption_dataset(tmp_path / "c", n=8), "val")


def test_device_normalisation_matches_open_clip_preprocessing():
    from torchvision.transforms.functional import normalize, to_tensor

    from rs_clip_train.data import Normalize

    rng = np.random.default_rng(0)
    arr = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    mean, std = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
    want = normalize(to_tensor(Image.fromarray(arr)), mean, std)
    got = Normalize(mean, std, torch.device("cpu"))(torch.from_numpy(arr).permute(2, 0, 1)[None])[0]
    assert torch.allclose(got, want, atol=1e-5)


@pytest.fixture(scope="module")
def three_splits(tmp_path_factory) -> Path:
    # 36 rows dealt to train / val / test, 4 rows a row group: a dataset as rs-annotate keeps a source's splits.
    return write_caption_dataset(
        tmp_path_factory.mktemp("s") / "dior-like",
        n=36,
        seed=2,
        row_group_rows=4,
        name="dior-like",
        splits=("train", "val", "test"),
    )


def test_several_splits_are_read_as_one_pool_each_row_once_per_epoch(three_splits):
    splits = ["train", "val", "test"]
    ds = open_caption_dataset(three_splits, splits)
    every = sorted(i for s in splits for i in ds.read_table(s, ["image_id"]).column("image_id").to_pylist())
    assert len(every) == 36 and {ds.num_rows(s) for s in splits} == {12}
    readers = [SourceStream(ds, splits, 0, r, 2, seed=3, window=2) for r in range(2)]
    assert sum(s.pass_rows for s in readers) == 36
    seen = [_ids(s, s.pass_rows) for s in readers]
    assert sorted(seen[0] + seen[1]) == every
    # A window mixes row groups of different splits: one pool, not one split after the other.
    first_window = _ids(readers[0], 8)
    assert len({int(i.rsplit("/", 1)[1]) % 3 for i in first_window}) > 1
    # One split given as a list is the stream it always was.
    assert _ids(SourceStream(ds, ["val"], 0, 0, 1, seed=1, window=2), 30) == _ids(
        SourceStream(ds, "val", 0, 0, 1, seed=1, window=2), 30
    )


def test_a_split_a_dataset_lacks_is_an_error_naming_it(three_splits, caption_ds):
    with pytest.raises(ConfigError, match=rf"{caption_ds}: has no split 'val' \(its manifest lists: train\)"):
        open_caption_dataset(caption_ds, ["train", "val"])
    assert set(open_caption_dataset(three_splits, ["test", "train"]).splits) == {"train", "val", "test"}


def test_an_epoch_counts_every_split_trained_on(three_splits, caption_ds):
    from rs_clip_train import preset
    from rs_clip_train.data import epoch_rows
    from rs_clip_train.launch_common import plan

    cfg = preset("tiny")
    cfg.data.split = "train,val,test"
    cfg.data.sources = [DataSource(str(three_splits)), DataSource(str(caption_ds), 2.0, "train")]
    facts = plan(cfg.validate())
    assert facts["rows"] == epoch_rows(cfg.data) == 36 + 192
    assert [(s["splits"], s["rows"]) for s in facts["dataset_info"]["sources"]] == [
        (["train", "val", "test"], 36),
        (["train"], 192),
    ]


def test_a_bomb_row_is_refused_from_its_header_by_the_shared_decoder():
    import struct
    import zlib

    from rs_clip_train.augment import decode
    from rs_formats import FormatError

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
    with pytest.raises(
        FormatError, match=r"image 'dota/P1': image declares 50000x50000 = 2,500,000,000 pixels"
    ):
        decode(bomb, "dota/P1", 64)
