"""Tiling as the paper's preparation did it: the windows of the converters RemoteCLIP's Table I counts match,
and a tiled mask source boxes each tile from its own pixels."""

import numpy as np

from rs_annotate.m2b import MaskRegions
from rs_annotate.options import ConvertOptions
from rs_annotate.sample_rows import convert_sample
from rs_annotate.source_images import tile_windows
from rs_annotate.types import Box, Sample


def origins_clamped(length: int, size: int, step: int) -> list[int]:
    """Window origins at multiples of ``step`` below ``length``, each moved back inside the image: the rule
    mmsegmentation's converters apply (tools/dataset_converters: isaid.py with step = size - overlap;
    potsdam.py / vaihingen.py with step = size, their grid being spaced by the clip size)."""
    if length <= size:
        return [0]
    return sorted({min(x, length - size) for x in range(0, length, step)})


def test_isprs_windows_are_mmsegmentations_and_give_its_published_count():
    # mmsegmentation documents 3,456 training + 2,016 validation images from 24 + 14 Potsdam tiles of
    # 6000 x 6000 pixels at "clip 512, stride 256": 144 per tile, i.e. 512-pixel windows without overlap
    # (its grid is spaced by the clip size), the last one moved back to the edge.
    windows = tile_windows(6000, 6000, 512, 0)
    assert len(windows) == 144 and 24 * 144 == 3456 and 14 * 144 == 2016
    assert len(tile_windows(6000, 6000, 512, 256)) == 23 * 23  # what a real stride of 256 would give
    for width, height in ((6000, 6000), (1887, 2566), (2336, 1281), (512, 700), (400, 300)):
        xs = sorted({x for x, _, _, _ in tile_windows(width, height, 512, 0)})
        ys = sorted({y for _, y, _, _ in tile_windows(width, height, 512, 0)})
        assert xs == origins_clamped(width, 512, 512) and ys == origins_clamped(height, 512, 512)


def test_isaid_windows_are_mmsegmentations_896_with_overlap_384():
    for width, height in ((4000, 4000), (1504, 1395), (896, 2000), (800, 600), (12029, 5014)):
        windows = tile_windows(width, height, 896, 384)
        assert sorted({w[0] for w in windows}) == origins_clamped(width, 896, 512)
        assert sorted({w[1] for w in windows}) == origins_clamped(height, 896, 512)
        assert all(w == min(896, width) and h == min(896, height) for _, _, w, h in windows)


def test_a_tiled_mask_source_boxes_each_tile_from_its_own_pixels():
    mask = np.zeros((64, 64), np.int32)
    mask[0:8, :] = 1  # a field along the top edge
    mask[:, 0:8] = 1  # and down the left edge: one L-shaped region
    regions = MaskRegions(mask, {1: "field"}, ignore=[0])
    assert regions.boxes() == [Box("field", 0, 0, 64, 64)]
    image = np.zeros((64, 64, 3), np.uint8)
    opts = ConvertOptions(tile=32, tile_overlap=0, short_side=None, keep_empty=True, image_format="png")

    def objects(sample: Sample) -> dict[str, list[tuple]]:
        rows = convert_sample(sample, opts, "captions").rows
        return {
            row["image_id"]: [(o["x0"], o["y0"], o["x1"], o["y1"]) for o in row["objects"]] for _, row in rows
        }

    by_mask = objects(Sample("s/1", "s", image=image, boxes=regions.boxes(), size=(64, 64), regions=regions))
    assert by_mask == {
        "s/1__0_0": [(0, 0, 32, 32)],
        "s/1__32_0": [(0, 0, 32, 8)],
        "s/1__0_32": [(0, 0, 8, 32)],
        "s/1__32_32": [],
    }  # the corner the field never enters has no field
    # Clipping the whole image's box instead would put the field in every tile, or (at a quarter of it
    # visible per tile) in none: the reason mask sources keep their mask.
    by_box = objects(Sample("s/1", "s", image=image, boxes=regions.boxes(), size=(64, 64)))
    assert all(boxes == [] for boxes in by_box.values())
