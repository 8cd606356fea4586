"""ImageFolder classification trees: ``<out>/<class folder>/<file>.jpg``, one folder per class.

Folder names come in the raw styles users meet (UCM ``denseresidential``, NWPU ``golf_course``, AID
``Airport``); each image is dominated by its class. The natural names the folders normalise to
(``dense residential``, ``golf course``, ``airport``) are words the caption writer uses, so zero-shot
classification with a CLIP trained on the synthetic captions is meaningful. The truth's ``meta`` maps every
folder to its natural name; images are spread round-robin over the classes.
"""

from __future__ import annotations

from pathlib import Path

from ..themes import compose_scene
from ..truth import ImageTruth, Truth
from ._base import atomic_output, finish, image_rng, object_truths, save_image, split_of

# folder -> (natural name, grounds, water options, wanted classes with count ranges, object scale)
CLASSES: dict[str, tuple[str, tuple[str, ...], tuple, dict[str, tuple[int, int]], float]] = {
    "airplane": ("airplane", ("concrete",), (None,), {"plane": (2, 6)}, 1.2),
    "Airport": ("airport", ("concrete", "grass"), (None,), {"airport": (1, 1), "plane": (1, 3)}, 1.0),
    "baseballdiamond": ("baseball diamond", ("grass",), (None,), {"baseball diamond": (1, 3)}, 1.2),
    "tennis_court": ("tennis court", ("grass", "urban"), (None,), {"tennis court": (2, 5)}, 1.2),
    "storagetanks": ("storage tanks", ("desert", "concrete"), (None,), {"storage tank": (3, 9)}, 1.2),
    "harbor": ("harbor", ("concrete",), ("sea",), {"harbor": (1, 2), "ship": (1, 3)}, 1.0),
    "roundabout": ("roundabout", ("grass", "urban", "farmland"), (None,), {"roundabout": (1, 1)}, 1.7),
    "golf_course": ("golf course", ("grass", "forest"), (None,), {"golf field": (1, 2)}, 1.3),
    "ground_track_field": (
        "ground track field",
        ("grass", "urban"),
        (None,),
        {"ground track field": (1, 1)},
        1.6,
    ),
    "swimming_pool": ("swimming pool", ("urban", "grass"), (None,), {"swimming pool": (2, 6)}, 1.3),
    "ship": ("ship", ("water",), (None,), {"ship": (2, 6)}, 1.1),
    "bridge": ("bridge", ("grass", "farmland", "forest"), ("river",), {"bridge": (1, 1)}, 1.6),
    "denseresidential": ("dense residential", ("urban",), (None,), {"small vehicle": (0, 4)}, 1.0),
    "Desert": ("desert", ("desert",), (None,), {}, 1.0),
    "Farmland": ("farmland", ("farmland",), (None,), {}, 1.0),
    "forest": ("forest", ("forest",), (None,), {}, 1.0),
    "meadow": ("meadow", ("grass",), (None,), {}, 1.0),
    "lake": ("lake", ("grass", "forest", "farmland"), ("lake",), {}, 1.0),
}


def write(
    out_dir: str | Path,
    n: int,
    seed: int = 0,
    size: int = 256,
    overwrite: bool = False,
    classes: list[str] | None = None,
) -> Truth:
    """``n`` images over the class folders (all of :data:`CLASSES`, or the listed folder names)."""
    folders = list(CLASSES) if classes is None else list(classes)
    unknown = [f for f in folders if f not in CLASSES]
    if unknown:
        raise ValueError(f"unknown ImageFolder classes {unknown}; known: {', '.join(CLASSES)}")
    truth = Truth(
        format="imagefolder",
        seed=seed,
        size=size,
        classes=folders,
        meta={"natural_names": {f: CLASSES[f][0] for f in folders}},
    )
    with atomic_output(out_dir, overwrite) as tmp:
        for i in range(n):
            rng = image_rng(seed, "imagefolder", i)
            folder = folders[i % len(folders)]
            natural, grounds, waters, wants, scale = CLASSES[folder]
            ground = grounds[int(rng.integers(len(grounds)))]
            water = waters[int(rng.integers(len(waters)))]
            objs = [c for c, (lo, hi) in wants.items() for _ in range(int(rng.integers(lo, hi + 1)))]
            scene = compose_scene(rng, size, ground, objs, water, scale, theme=folder)
            fname = f"{folder.lower()}_{i // len(folders) + 1:03d}.jpg"
            save_image(scene.image, tmp / folder / fname)
            truth.images.append(
                ImageTruth(
                    index=i,
                    image=f"{folder}/{fname}",
                    width=scene.width,
                    height=scene.height,
                    split=split_of(seed, "imagefolder", i),
                    ground=scene.ground,
                    water=scene.water,
                    theme=folder,
                    objects=object_truths(scene, {c: c for c in scene.counts()}),
                    meta={"class": folder, "class_name": natural, "label": folders.index(folder)},
                )
            )
        return finish(truth, tmp)
