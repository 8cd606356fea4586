"""Scene model: a textured ground (optionally with a sea, river or lake) and placed objects.

``render_scene(rng, size, ground, objects)`` draws given placements; ``place_objects`` finds
non-overlapping placements on land or water; what goes into a scene (themes, counting layouts) is
:mod:`rs_synth.themes`'. Every object of a :class:`Scene` carries its class, axis-aligned box,
oriented box (4 corners, clockwise on screen) and instance id (its pixels in ``Scene.instance_map``).

Object sizes are fractions of the image side, so the same scene at 256 px and 1024 px differs only in
resolution: that is what keeps the classes recognisable when a tiny CLIP sees them at 64 px.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from .shapes import SHADOWED, SHAPES, Part
from .textures import ground_texture, water_mask

# Typical object size (long side) as a fraction of the image side in general scenes.
CLASS_SCALE: dict[str, float] = {
    "plane": 0.17,
    "helicopter": 0.13,
    "ship": 0.2,
    "storage tank": 0.11,
    "small vehicle": 0.055,
    "large vehicle": 0.09,
    "harbor": 0.34,
    "bridge": 0.34,
    "roundabout": 0.24,
    "tennis court": 0.17,
    "basketball court": 0.17,
    "baseball diamond": 0.28,
    "soccer field": 0.32,
    "ground track field": 0.36,
    "swimming pool": 0.12,
    "airport": 0.62,
    "chimney": 0.16,
    "dam": 0.4,
    "expressway service area": 0.34,
    "expressway toll station": 0.3,
    "golf field": 0.4,
    "overpass": 0.36,
    "crossroad": 0.34,
    "t junction": 0.3,
    "parking lot": 0.32,
    "stadium": 0.36,
    "train station": 0.4,
    "windmill": 0.14,
    "building": 0.12,
    "person": 0.03,
    "bicycle": 0.045,
    "motorcycle": 0.05,
    "van": 0.08,
    "bus": 0.14,
    "trailer": 0.12,
    "tricycle": 0.05,
    "awning tricycle": 0.055,
    "cart": 0.06,
    "skateboarder": 0.04,
}

# Where an object may stand. Bridges, harbours and dams carry their own water patch, so they go anywhere.
WATER_CLASSES = frozenset({"ship"})
ANYWHERE = frozenset({"bridge", "harbor", "dam"})


@dataclass
class Placement:
    """Where and how to draw one object: centre (px), size (px, long side), angle (degrees, clockwise on
    screen since the image y axis points down)."""

    cls: str
    cx: float
    cy: float
    size: float
    angle: float
    parts: list[Part] | None = None


@dataclass
class SceneObject:
    cls: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 (pixels, x1/y1 exclusive edges)
    poly: list[tuple[float, float]]  # oriented box, 4 corners clockwise on screen
    angle: float
    instance_id: int
    center: tuple[float, float]
    size: float


@dataclass
class Scene:
    image: np.ndarray  # (H, W, 3) uint8
    ground: str
    water: str | None
    objects: list[SceneObject]
    instance_map: np.ndarray  # (H, W) int32, 0 = no object, k = objects[k - 1]
    water_mask: np.ndarray  # (H, W) bool
    theme: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.objects:
            out[o.cls] = out.get(o.cls, 0) + 1
        return out


def _size_hw(size: int | tuple[int, int]) -> tuple[int, int]:
    """``size`` is the side of a square image or (width, height)."""
    if isinstance(size, int):
        return size, size
    return int(size[1]), int(size[0])


def make_ground(
    rng: np.random.Generator, ground: str, h: int, w: int, water: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Ground texture (float32, H x W x 3) and water mask; ``ground='water'`` is all water."""
    tex = ground_texture(rng, ground, h, w)
    if ground == "water":
        return tex, np.ones((h, w), bool)
    if water is None:
        return tex, np.zeros((h, w), bool)
    wm = water_mask(rng, water, h, w)
    wt = ground_texture(rng, "water", h, w)
    tex = np.where(wm[..., None], wt, tex)
    shore = np.zeros_like(wm)
    shore[2:] |= wm[2:] != wm[:-2]
    shore[:, 2:] |= wm[:, 2:] != wm[:, :-2]
    tex[shore & ~wm] = (196, 186, 150)
    return tex, wm


def _transform(pts: np.ndarray, p: Placement) -> np.ndarray:
    a = np.deg2rad(p.angle)
    c, s = np.cos(a), np.sin(a)
    rot = np.array([[c, -s], [s, c]])
    return pts * p.size @ rot.T + (p.cx, p.cy)


def _footprint_local(parts: list[Part]) -> np.ndarray:
    pts = np.concatenate([q.pts for q in parts if q.mask])
    (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def draw_objects(
    rng: np.random.Generator,
    tex: np.ndarray,
    wm: np.ndarray,
    ground: str,
    water: str | None,
    placements: list[Placement],
    theme: str = "",
    with_shadows: bool = True,
) -> Scene:
    """Draw placements onto a ground texture; returns the finished :class:`Scene`."""
    h, w = tex.shape[:2]
    for p in placements:
        if p.parts is None:
            p.parts = SHAPES[p.cls](rng)
    if with_shadows and any(p.cls in SHADOWED for p in placements):
        shadow = Image.new("L", (w, h), 0)
        sd = ImageDraw.Draw(shadow)
        for p in placements:
            if p.cls not in SHADOWED:
                continue
            off = np.array([0.07, 0.05]) * p.size
            for q in p.parts:
                if q.mask:
                    sd.polygon([tuple(v) for v in _transform(q.pts, p) + off], fill=120)
        tex = tex * (1.0 - np.asarray(shadow, np.float32)[..., None] / 255.0)
    img = Image.fromarray(np.clip(tex, 0, 255).astype(np.uint8), "RGB")
    inst = Image.new("I", (w, h), 0)
    draw, idraw = ImageDraw.Draw(img), ImageDraw.Draw(inst)
    objects: list[SceneObject] = []
    for k, p in enumerate(placements, start=1):
        fp_pts = []
        for q in p.parts:
            xy = _transform(q.pts, p)
            poly = [tuple(v) for v in xy]
            draw.polygon(poly, fill=q.color)
            if q.mask:
                idraw.polygon(poly, fill=k)
                fp_pts.append(xy)
        allp = np.concatenate(fp_pts)
        x0, y0 = np.clip(allp.min(0), 0, (w, h))
        x1, y1 = np.clip(allp.max(0), 0, (w, h))
        obb = _transform(_footprint_local(p.parts), p)
        objects.append(
            SceneObject(
                cls=p.cls,
                box=(float(x0), float(y0), float(x1), float(y1)),
                poly=[(float(a), float(b)) for a, b in obb],
                angle=float(p.angle % 360),
                instance_id=k,
                center=(float(p.cx), float(p.cy)),
                size=float(p.size),
            )
        )
    return Scene(
        image=np.asarray(img),
        ground=ground,
        water=water,
        objects=objects,
        instance_map=np.asarray(inst, dtype=np.int32),
        water_mask=wm,
        theme=theme,
    )


def render_scene(
    rng: np.random.Generator,
    size: int | tuple[int, int],
    ground: str,
    objects: list[Placement],
    water: str | None = None,
    theme: str = "",
) -> Scene:
    """Draw the given placements on a fresh ``ground`` texture (with an optional ``water`` body).

    Args:
        rng: the generator every random choice comes from.
        size: the side of a square image, or ``(width, height)``.
        ground: a ground texture (:data:`rs_synth.textures.GROUNDS`).
        objects: where each object goes (class, centre, size, angle, shape parts).
        water: a water body to add (``"sea"``, ``"river"``, ``"lake"``) or None.
        theme: the theme name the scene records.

    Returns:
        The :class:`Scene`: image, objects with their boxes, instance map.
    """
    h, w = _size_hw(size)
    tex, wm = make_ground(rng, ground, h, w, water)
    return draw_objects(rng, tex, wm, ground, water, objects, theme)


def _fits(p: Placement, wm: np.ndarray, margin: float = 1.0) -> bool:
    h, w = wm.shape
    full = _transform(_footprint_local(p.parts), p)
    if (full < margin).any() or (full[:, 0] > w - margin).any() or (full[:, 1] > h - margin).any():
        return False
    corners = _transform(_footprint_local(p.parts) * 0.92, p)  # surface test: edges may touch the shore
    if p.cls in ANYWHERE:
        # Over an existing river or sea they look right where they stand on its water.
        return not wm.any() or bool(wm[int(np.clip(p.cy, 0, h - 1)), int(np.clip(p.cx, 0, w - 1))])
    pts = np.vstack([corners, [[p.cx, p.cy]]]).astype(int)
    pts[:, 0] = pts[:, 0].clip(0, w - 1)
    pts[:, 1] = pts[:, 1].clip(0, h - 1)
    on_water = wm[pts[:, 1], pts[:, 0]]
    return bool(on_water.all()) if p.cls in WATER_CLASSES else not on_water.any()


def _radius(p: Placement, context: bool = False) -> float:
    """Bounding-circle radius around the centre: of the footprint, or of every part with ``context``."""
    pts = np.concatenate([q.pts for q in p.parts if context or q.mask])
    return float(np.hypot(pts[:, 0], pts[:, 1]).max()) * p.size


def place_objects(
    rng: np.random.Generator,
    wm: np.ndarray,
    wants: list[str],
    scale: float = 1.0,
    spacing: float = 0.8,
    tries: int = 40,
) -> list[Placement]:
    """Rejection-sample placements for the wanted classes (largest first) on land or water as each class
    needs, with bounding circles overlapping at most ``1 - spacing``. Objects that find no room are dropped:
    the returned list is the truth."""
    h, w = wm.shape
    side = min(h, w)
    order = sorted(wants, key=lambda c: -CLASS_SCALE[c])
    placed: list[tuple[Placement, float]] = []
    for cls in order:
        parts = SHAPES[cls](rng)
        r_unit = _radius(Placement(cls, 0, 0, 1.0, 0, parts))
        for _ in range(tries):
            size = CLASS_SCALE[cls] * side * scale * rng.uniform(0.8, 1.2)
            p = Placement(cls, rng.uniform(0, w), rng.uniform(0, h), size, rng.uniform(0, 360), parts)
            if not _fits(p, wm):
                continue
            r = r_unit * size
            if all(np.hypot(p.cx - q.cx, p.cy - q.cy) >= spacing * (r + rq) for q, rq in placed):
                placed.append((p, r))
                break
    return [p for p, _ in placed]
