"""What goes into a scene: themed scenes of allowed classes, and counting scenes of one class.

``sample_scene`` picks a theme (an airport, a harbour, a suburb, ...), its ground and how many objects of
each class, then :func:`compose_scene` places and draws them (:mod:`rs_synth.scenes`); ``counting_scene``
draws 1..N well-separated objects of one class on a ground that suits it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .scenes import (
    Placement,
    Scene,
    _footprint_local,
    _radius,
    _size_hw,
    _transform,
    draw_objects,
    make_ground,
    place_objects,
)
from .shapes import SHAPES


@dataclass(frozen=True)
class Theme:
    name: str
    grounds: tuple[str, ...]
    waters: tuple[str | None, ...]
    classes: dict[str, tuple[int, int]]


THEMES: tuple[Theme, ...] = (
    Theme(
        "airport",
        ("concrete",),
        (None,),
        {
            "plane": (2, 7),
            "helicopter": (0, 2),
            "small vehicle": (0, 4),
            "large vehicle": (0, 2),
            "airport": (0, 1),
        },
    ),
    Theme(
        "port",
        ("concrete", "urban"),
        ("sea",),
        {"ship": (1, 5), "harbor": (1, 2), "storage tank": (0, 4), "large vehicle": (0, 3)},
    ),
    Theme("sea", ("water",), (None,), {"ship": (1, 7)}),
    Theme(
        "industrial",
        ("desert", "concrete"),
        (None,),
        {
            "storage tank": (2, 9),
            "large vehicle": (0, 4),
            "chimney": (0, 3),
            "small vehicle": (0, 3),
            "train station": (0, 1),
        },
    ),
    Theme(
        "sports",
        ("grass",),
        (None,),
        {
            "tennis court": (0, 4),
            "basketball court": (0, 3),
            "soccer field": (0, 1),
            "ground track field": (0, 1),
            "baseball diamond": (0, 2),
            "swimming pool": (0, 2),
            "stadium": (0, 1),
            "golf field": (0, 1),
        },
    ),
    Theme(
        "residential",
        ("urban",),
        (None,),
        {
            "small vehicle": (2, 10),
            "swimming pool": (0, 3),
            "roundabout": (0, 1),
            "tennis court": (0, 2),
            "basketball court": (0, 2),
            "parking lot": (0, 1),
            "crossroad": (0, 1),
            "t junction": (0, 1),
            "overpass": (0, 1),
        },
    ),
    Theme(
        "river",
        ("grass", "farmland", "forest"),
        ("river",),
        {"bridge": (1, 2), "ship": (0, 3), "dam": (0, 1)},
    ),
    Theme(
        "countryside",
        ("farmland", "grass", "desert", "forest"),
        (None, None, "lake"),
        {
            "roundabout": (0, 1),
            "windmill": (0, 5),
            "golf field": (0, 1),
            "baseball diamond": (0, 1),
            "expressway service area": (0, 1),
            "expressway toll station": (0, 1),
            "small vehicle": (0, 3),
            "storage tank": (0, 3),
            "helicopter": (0, 1),
        },
    ),
)


def _pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def sample_scene(
    rng: np.random.Generator,
    size: int | tuple[int, int],
    classes: set[str] | frozenset[str],
    theme: str | None = None,
    scale: float = 1.0,
) -> Scene:
    """A random themed scene whose objects all belong to ``classes``.

    Args:
        rng: the generator every random choice comes from.
        size: the side of a square image, or ``(width, height)``.
        classes: the classes the scene may show (natural names); a theme drawing none of them is never picked.
        theme: draw this theme (:data:`THEMES`) rather than a random one.
        scale: multiplies every object's size.

    Returns:
        The :class:`~rs_synth.scenes.Scene`. ValueError when no theme draws any of ``classes``.
    """
    h, w = _size_hw(size)
    themes = [t for t in THEMES if t.classes.keys() & classes and (theme is None or t.name == theme)]
    if not themes:
        raise ValueError(
            f"no theme draws any of {sorted(classes)}" + (f" (theme {theme!r})" if theme else "")
        )
    t = _pick(rng, themes)
    ground, water = _pick(rng, t.grounds), _pick(rng, t.waters)
    wants: list[str] = []
    allowed = [c for c in t.classes if c in classes]
    for c in allowed:
        lo, hi = t.classes[c]
        wants += [c] * int(rng.integers(lo, hi + 1))
    if not wants:
        wants = [_pick(rng, allowed)] * int(rng.integers(1, 4))
    if water is None and ground != "water" and "ship" in wants:
        water = "sea"
    return compose_scene(rng, (w, h), ground, wants, water, scale, theme=t.name)


def compose_scene(
    rng: np.random.Generator,
    size: int | tuple[int, int],
    ground: str,
    wants: list[str],
    water: str | None = None,
    scale: float = 1.0,
    theme: str = "",
) -> Scene:
    """A scene of ``ground`` (+ ``water``) with the wanted classes placed where they fit.

    Args:
        rng, size, ground, water, theme: as :func:`rs_synth.scenes.render_scene` takes them.
        wants: the objects to place, one class name each (repeat a class for several).
        scale: multiplies every object's size.

    Returns:
        The :class:`~rs_synth.scenes.Scene`; objects that find no room
        (:func:`rs_synth.scenes.place_objects`) are left out of it and of its truth.
    """
    h, w = _size_hw(size)
    tex, wm = make_ground(rng, ground, h, w, water)
    placements = place_objects(rng, wm, wants, scale)
    return draw_objects(rng, tex, wm, ground, water, placements, theme=theme)


COUNT_GROUNDS: dict[str, tuple[str, ...]] = {
    "ship": ("water",),
    "harbor": ("water",),
    "plane": ("concrete",),
    "helicopter": ("concrete", "grass"),
    "storage tank": ("desert", "concrete"),
}


def counting_scene(
    rng: np.random.Generator, size: int | tuple[int, int], cls: str, count: int, grid: int = 4
) -> Scene:
    """``count`` objects of one class, one per randomly chosen cell of a ``grid`` x ``grid`` layout, each
    sized to fit its cell whatever its rotation, so objects never touch and all are clearly countable. The
    oriented box too stays inside the cell (a round tank's box corners reach past the tank), so that every
    label lies inside the image and no reader has to clip one.

    Args:
        rng: the generator every random choice comes from.
        size: the side of a square image, or ``(width, height)``.
        cls: the class to draw (natural name); its ground comes from :data:`COUNT_GROUNDS`.
        count: how many objects, 1 to ``grid * grid``.
        grid: cells per side of the layout.

    Returns:
        The :class:`~rs_synth.scenes.Scene`, with exactly ``count`` objects.
    """
    if not 1 <= count <= grid * grid:
        raise ValueError(f"count must be in 1..{grid * grid}, got {count}")
    h, w = _size_hw(size)
    ground = _pick(rng, COUNT_GROUNDS.get(cls, ("grass", "farmland", "desert", "urban", "concrete")))
    tex, wm = make_ground(rng, ground, h, w)
    cw, ch = w / grid, h / grid
    cells = rng.permutation(grid * grid)[:count]
    placements = []
    for c in cells:
        parts = SHAPES[cls](rng)
        p = Placement(cls, 0, 0, 1.0, rng.uniform(0, 360), parts)
        r_unit = _radius(p, context=True)  # bounding radius per pixel of size
        half_x, half_y = np.abs(_transform(_footprint_local(parts), p)).max(0)  # the box's, at its angle
        size_px = min(cw, ch) * rng.uniform(0.82, 0.96) / (2 * r_unit)
        size_px = min(size_px, min(cw, ch) * 0.9, (cw / 2 - 1) / half_x, (ch / 2 - 1) / half_y)
        slack_x = max(0.0, cw / 2 - max(r_unit, half_x) * size_px - 1)
        slack_y = max(0.0, ch / 2 - max(r_unit, half_y) * size_px - 1)
        p.size = size_px
        p.cx = (c % grid + 0.5) * cw + rng.uniform(-slack_x, slack_x)
        p.cy = (c // grid + 0.5) * ch + rng.uniform(-slack_y, slack_y)
        placements.append(p)
    return draw_objects(rng, tex, wm, ground, None, placements, theme="counting")
