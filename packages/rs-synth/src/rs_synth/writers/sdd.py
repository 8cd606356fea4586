"""Stanford Drone Dataset: per-video ``annotations/<scene>/video<k>/annotations.txt`` with rows
``track_id xmin ymin xmax ymax frame lost occluded generated "label"`` (space-separated, sorted by track then
frame; ``lost`` = 1 once the agent has left the view; ``generated`` = 1 except on every 10th frame, as SDD
interpolates between key frames), ``reference.jpg`` (the first frame) beside it, and the video
``videos/<scene>/video<k>/video.mov`` written with OpenCV (mp4v), which is imported only here.
Labels: Pedestrian, Biker, Skater, Cart, Car, Bus. ``n`` is the number of videos; ``size`` the frame width
(height 9/16 of it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..classes import SDD
from ..scenes import CLASS_SCALE, Placement, _transform
from ..shapes import SHAPES
from ..streets import _road_mask
from ..textures import ground_texture
from ..truth import ImageTruth, ObjectTruth, Truth
from ._base import atomic_output, finish, image_rng, save_image

SCENES = ("quad", "bookstore", "coupa", "deathCircle", "gates", "hyang", "little", "nexus")
MIX = [("Pedestrian", 6), ("Biker", 3), ("Skater", 1), ("Cart", 0.5), ("Car", 0.7), ("Bus", 0.2)]
SPEED = {"Pedestrian": 0.0025, "Biker": 0.007, "Skater": 0.005, "Cart": 0.004, "Car": 0.009, "Bus": 0.007}
FPS = 30


def _cv2():
    try:
        import cv2
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "the Stanford Drone writer needs OpenCV to write video.mov: pip install opencv-python-headless"
        ) from e
    return cv2


def write(
    out_dir: str | Path, n: int, seed: int = 0, size: int = 640, overwrite: bool = False, frames: int = 90
) -> Truth:
    cv2 = _cv2()
    w, h = size, size * 9 // 16
    truth = Truth(format="sdd", seed=seed, size=size, classes=list(SDD), meta={"fps": FPS, "frames": frames})
    names = [c for c, _ in MIX]
    p = np.array([wt for _, wt in MIX])
    with atomic_output(out_dir, overwrite) as tmp:
        for i in range(n):
            rng = image_rng(seed, "sdd", i)
            scene, video = SCENES[i % len(SCENES)], f"video{i // len(SCENES)}"
            bg = ground_texture(rng, "grass", h, w)
            road, _ = _road_mask(rng, w, h, 2)
            bg[road] = (190, 182, 165)  # paved campus paths
            bg = np.clip(bg, 0, 255).astype(np.uint8)
            k = int(rng.integers(6, 14))
            agents = []
            for tid in range(k):
                label = str(rng.choice(names, p=p / p.sum()))
                cls = SDD[label]
                size_px = CLASS_SCALE[cls] * w * 2.2 * rng.uniform(0.85, 1.15)
                start = rng.uniform(0.05, 0.95, 2) * (w, h)
                heading = rng.uniform(0, 2 * np.pi)
                vel = np.array([np.cos(heading), np.sin(heading)]) * SPEED[label] * w * rng.uniform(0.7, 1.3)
                agents.append(
                    (
                        tid,
                        label,
                        cls,
                        size_px,
                        start,
                        vel,
                        SHAPES[cls](rng),
                        int(rng.integers(0, frames // 3)),
                    )
                )
            rows: list[str] = []
            frame_objs: list[list[ObjectTruth]] = [[] for _ in range(frames)]
            vdir = tmp / "videos" / scene / video
            vdir.mkdir(parents=True, exist_ok=True)
            writer = cv2.VideoWriter(str(vdir / "video.mov"), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (w, h))
            if not writer.isOpened():
                raise RuntimeError(f"{vdir / 'video.mov'}: OpenCV could not open an mp4v video writer")
            drawn: list[list[Placement]] = [[] for _ in range(frames)]
            for tid, label, cls, size_px, start, vel, parts, t0 in agents:
                for f in range(t0, frames):
                    c = start + vel * (f - t0)
                    pl = Placement(
                        cls, c[0], c[1], size_px, float(np.degrees(np.arctan2(vel[1], vel[0]))), parts
                    )
                    fp = np.concatenate([_transform(q.pts, pl) for q in parts if q.mask])
                    x0, y0 = fp.min(0)
                    x1, y1 = fp.max(0)
                    lost = int(x1 < 0 or y1 < 0 or x0 > w or y0 > h)
                    box = (int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1)))
                    rows.append(
                        f'{tid} {box[0]} {box[1]} {box[2]} {box[3]} {f} {lost} 0 {int(f % 10 != 0)} "{label}"'
                    )
                    if not lost:
                        drawn[f].append(pl)
                        frame_objs[f].append(
                            ObjectTruth(
                                cls=cls, label=label, box=[float(v) for v in box], poly=[], instance_id=tid
                            )
                        )
            first = None
            for f in range(frames):
                img = Image.fromarray(bg)
                d = ImageDraw.Draw(img)
                for pl in drawn[f]:
                    for q in pl.parts:
                        d.polygon([tuple(v) for v in _transform(q.pts, pl)], fill=q.color)
                arr = np.asarray(img)
                if first is None:
                    first = arr
                writer.write(np.ascontiguousarray(arr[..., ::-1]))
            writer.release()
            adir = tmp / "annotations" / scene / video
            adir.mkdir(parents=True, exist_ok=True)
            (adir / "annotations.txt").write_text("\n".join(rows) + "\n", encoding="ascii")
            save_image(first, adir / "reference.jpg")
            truth.images.append(
                ImageTruth(
                    index=i,
                    image=f"videos/{scene}/{video}/video.mov",
                    width=w,
                    height=h,
                    labels=[f"annotations/{scene}/{video}/annotations.txt"],
                    theme=scene,
                    objects=frame_objs[0],
                    meta={
                        "frames": frames,
                        "fps": FPS,
                        "rows": len(rows),
                        "tracks": {str(a[0]): a[1] for a in agents},
                        "objects_per_frame": [len(x) for x in frame_objs],
                    },
                )
            )
        return finish(truth, tmp)
