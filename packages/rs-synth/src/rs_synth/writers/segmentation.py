"""Semantic-segmentation formats: LoveDA index masks and ISPRS Potsdam / Vaihingen RGB-coded labels.

LoveDA::

    {Train,Val}/{Urban,Rural}/images_png/<k>.png   RGB
    {Train,Val}/{Urban,Rural}/masks_png/<k>.png    8-bit index mask: 0 no-data, 1 background, 2 building,
                                                  3 road, 4 water, 5 barren, 6 forest, 7 agriculture

ISPRS Potsdam (tile ``top_potsdam_<a>_<b>``; colours impervious surfaces (255,255,255), building
(0,0,255), low vegetation (0,255,255), tree (0,255,0), car (255,255,0), clutter/background (255,0,0))::

    2_Ortho_RGB/top_potsdam_2_10_RGB.tif       3-band
    3_Ortho_IRRG/top_potsdam_2_10_IRRG.tif     3-band: NIR, R, G
    4_Ortho_RGBIR/top_potsdam_2_10_RGBIR.tif   4-band R, G, B, NIR (Pillow tags band 4 as alpha)
    5_Labels_all/top_potsdam_2_10_label.tif    RGB colour-coded labels

ISPRS Vaihingen: ``top/top_mosaic_09cm_area<k>.tif`` (IRRG, as the real orthophotos) and
``gts_for_participants/top_mosaic_09cm_area<k>.tif`` (same colour code).

``layout="release"`` writes the labels where the ISPRS archives unpack them: Potsdam's ``5_Labels_all.zip``
and Vaihingen's ``..._ground_truth_COMPLETE.zip`` have no folder, so the label tiles land in the root
(Vaihingen's under the images' own names); Vaihingen's ``gts_for_participants/`` then holds only the
benchmark's training tiles (areas 1, 3, 5, 7, 11, 13, 15, 17, 21, 23, 26, 28, 30, 32, 34, 37), as in the
images archive.

Mapping from the internal land cover: road -> impervious surfaces, background/agriculture -> low
vegetation, forest -> tree, water/barren -> clutter. LoveDA has no car class: cars are labelled road.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..landcover import (
    AGRICULTURE,
    BACKGROUND,
    BARREN,
    BUILDING,
    CAR,
    FOREST,
    NODATA,
    ROAD,
    WATER,
    landcover_scene,
)
from ..truth import ImageTruth, Truth
from ._base import atomic_output, finish, image_rng, save_image, split_of

LOVEDA_CLASSES = ("no-data", "background", "building", "road", "water", "barren", "forest", "agriculture")
_LOVEDA_CODE = np.array([0, 1, 2, 3, 4, 5, 6, 7, 3], np.uint8)  # internal -> LoveDA (car -> road)

ISPRS_CLASSES = ("impervious surfaces", "building", "low vegetation", "tree", "car", "clutter")
ISPRS_PALETTE = ((255, 255, 255), (0, 0, 255), (0, 255, 255), (0, 255, 0), (255, 255, 0), (255, 0, 0))
_ISPRS_CODE = np.zeros(9, np.uint8)
_ISPRS_CODE[[NODATA, BACKGROUND, BUILDING, ROAD, WATER, BARREN, FOREST, AGRICULTURE, CAR]] = [
    5,
    2,
    1,
    0,
    5,
    5,
    3,
    2,
    4,
]


def _hist(labels: np.ndarray, n: int) -> dict[str, int]:
    return {str(k): int(v) for k, v in enumerate(np.bincount(labels.ravel(), minlength=n)) if v}


def write_loveda(
    out_dir: str | Path, n: int, seed: int = 0, size: int = 1024, overwrite: bool = False
) -> Truth:
    """``n`` LoveDA tiles, alternating Urban / Rural, split Train / Val (80/20); ~20% carry a no-data strip."""
    truth = Truth(format="loveda", seed=seed, size=size, classes=list(LOVEDA_CLASSES))
    with atomic_output(out_dir, overwrite) as tmp:
        for i in range(n):
            rng = image_rng(seed, "loveda", i)
            urban = i % 2 == 0
            sc = landcover_scene(rng, size, urban, nodata=rng.random() < 0.2)
            split = "Val" if split_of(seed, "loveda", i, (("Train", 0.8), ("Val", 0.2))) == "Val" else "Train"
            domain = "Urban" if urban else "Rural"
            base = f"{split}/{domain}"
            mask = _LOVEDA_CODE[sc.labels]
            save_image(sc.image, tmp / base / "images_png" / f"{i}.png")
            save_image(mask, tmp / base / "masks_png" / f"{i}.png")
            truth.images.append(
                ImageTruth(
                    index=i,
                    image=f"{base}/images_png/{i}.png",
                    width=size,
                    height=size,
                    split=split.lower(),
                    labels=[f"{base}/masks_png/{i}.png"],
                    theme=domain.lower(),
                    meta={"pixels_per_class": _hist(mask, 8)},
                )
            )
        return finish(truth, tmp)


def _isprs_rgb(labels: np.ndarray) -> np.ndarray:
    return np.asarray(ISPRS_PALETTE, np.uint8)[_ISPRS_CODE[labels]]


def _tile(rng, size):
    # ISPRS tiles are urban: mostly built-up with some greenery.
    return landcover_scene(rng, size, urban=rng.random() < 0.8)


#: Vaihingen's training tiles, the only ones in ``gts_for_participants/`` (torchgeo and mmsegmentation lists).
VAIHINGEN_TRAIN_AREAS = (1, 3, 5, 7, 11, 13, 15, 17, 21, 23, 26, 28, 30, 32, 34, 37)
LAYOUTS = ("folders", "release")


def _check_layout(layout: str) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")


def write_potsdam(
    out_dir: str | Path,
    n: int,
    seed: int = 0,
    size: int = 1024,
    overwrite: bool = False,
    layout: str = "folders",
) -> Truth:
    """``n`` Potsdam tiles in the RGB, IRRG and RGBIR variants with colour-coded labels."""
    _check_layout(layout)
    truth = Truth(
        format="potsdam",
        seed=seed,
        size=size,
        classes=list(ISPRS_CLASSES),
        meta={"palette": [list(c) for c in ISPRS_PALETTE]},
    )
    with atomic_output(out_dir, overwrite) as tmp:
        for i in range(n):
            rng = image_rng(seed, "potsdam", i)
            sc = _tile(rng, size)
            tile = f"top_potsdam_{2 + i // 6}_{7 + i % 6}"
            r, g, b = sc.image[..., 0], sc.image[..., 1], sc.image[..., 2]
            files = {
                "RGB": (f"2_Ortho_RGB/{tile}_RGB.tif", sc.image),
                "IRRG": (f"3_Ortho_IRRG/{tile}_IRRG.tif", np.stack([sc.nir, r, g], -1)),
                "RGBIR": (f"4_Ortho_RGBIR/{tile}_RGBIR.tif", np.stack([r, g, b, sc.nir], -1)),
            }
            for rel, arr in files.values():
                save_image(arr, tmp / rel)
            lab = f"{tile}_label.tif" if layout == "release" else f"5_Labels_all/{tile}_label.tif"
            save_image(_isprs_rgb(sc.labels), tmp / lab)
            truth.images.append(
                ImageTruth(
                    index=i,
                    image=files["RGB"][0],
                    width=size,
                    height=size,
                    split=split_of(seed, "potsdam", i),
                    labels=[lab],
                    theme="urban" if sc.urban else "rural",
                    meta={
                        "variants": {k: v[0] for k, v in files.items()},
                        "pixels_per_class": _hist(_ISPRS_CODE[sc.labels], 6),
                    },
                )
            )
        return finish(truth, tmp)


def write_vaihingen(
    out_dir: str | Path,
    n: int,
    seed: int = 0,
    size: int = 1024,
    overwrite: bool = False,
    layout: str = "folders",
) -> Truth:
    """``n`` Vaihingen tiles: IRRG orthophotos with colour-coded labels."""
    _check_layout(layout)
    truth = Truth(
        format="vaihingen",
        seed=seed,
        size=size,
        classes=list(ISPRS_CLASSES),
        meta={"palette": [list(c) for c in ISPRS_PALETTE]},
    )
    with atomic_output(out_dir, overwrite) as tmp:
        for i in range(n):
            rng = image_rng(seed, "vaihingen", i)
            sc = _tile(rng, size)
            name = f"top_mosaic_09cm_area{i + 1}.tif"
            save_image(np.stack([sc.nir, sc.image[..., 0], sc.image[..., 1]], -1), tmp / "top" / name)
            label = name if layout == "release" else f"gts_for_participants/{name}"
            save_image(_isprs_rgb(sc.labels), tmp / label)
            if layout == "release" and i + 1 in VAIHINGEN_TRAIN_AREAS:
                save_image(_isprs_rgb(sc.labels), tmp / "gts_for_participants" / name)
            truth.images.append(
                ImageTruth(
                    index=i,
                    image=f"top/{name}",
                    width=size,
                    height=size,
                    split=split_of(seed, "vaihingen", i),
                    labels=[label],
                    theme="urban" if sc.urban else "rural",
                    meta={"bands": "IRRG", "pixels_per_class": _hist(_ISPRS_CODE[sc.labels], 6)},
                )
            )
        return finish(truth, tmp)
