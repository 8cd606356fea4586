"""Top-down object shapes, one small function per class, gathered in :data:`SHAPES`.

A shape is a list of :class:`Part` polygons in the object's local frame: x runs along the object's long
axis, y across it, and every point lies in the square [-0.5, 0.5]^2 (unit = the object's size in pixels).
That bound is what lets the scene sampler place objects by their bounding circle (radius <= 0.71 size).

Parts are drawn in order. ``mask=False`` parts are context that belongs to the picture but not to the
object's footprint (the water under a bridge, a ship's wake): they are left out of the instance mask,
the axis-aligned box and the oriented box.

Colours are chosen for recognisability at 64 px, not photo-realism: each class has its own colour and
silhouette (white cross = plane, grey pointed hull on water = ship, white disc with a dark ring = storage
tank, red oval = ground track field, cyan rectangle = swimming pool, ...).

Modules: :mod:`.parts` (the polygon primitives and shared colours), :mod:`.vehicles`, :mod:`.people`,
:mod:`.sports` and :mod:`.infrastructure` (the shapes themselves).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import infrastructure as _i
from . import people as _p
from . import sports as _s
from . import vehicles as _v
from .parts import CAR_COLORS, Part, bar

SHAPES: dict[str, Callable[[np.random.Generator], list[Part]]] = {
    "plane": _v.plane,
    "helicopter": _v.helicopter,
    "ship": _v.ship,
    "storage tank": _i.storage_tank,
    "small vehicle": _v.small_vehicle,
    "large vehicle": _v.large_vehicle,
    "harbor": _i.harbor,
    "bridge": _i.bridge,
    "roundabout": _i.roundabout,
    "tennis court": _s.tennis_court,
    "basketball court": _s.basketball_court,
    "baseball diamond": _s.baseball_diamond,
    "soccer field": _s.soccer_field,
    "ground track field": _s.ground_track_field,
    "swimming pool": _s.swimming_pool,
    "airport": _i.airport,
    "chimney": _i.chimney,
    "dam": _i.dam,
    "expressway service area": _i.expressway_service_area,
    "expressway toll station": _i.expressway_toll_station,
    "golf field": _s.golf_field,
    "overpass": _i.overpass,
    "crossroad": _i.crossroad,
    "t junction": _i.t_junction,
    "parking lot": _i.parking_lot,
    "stadium": _s.stadium,
    "train station": _i.train_station,
    "windmill": _i.windmill,
    "building": _i.building,
    "person": _p.person,
    "bicycle": _v.bicycle,
    "motorcycle": _v.motorcycle,
    "van": _v.van,
    "bus": _v.bus,
    "trailer": _v.trailer,
    "tricycle": _v.tricycle,
    "awning tricycle": _v.awning_tricycle,
    "cart": _v.cart,
    "skateboarder": _p.skateboarder,
}

# Classes that stand up from the ground and cast a shadow (drawn as a darkened offset footprint).
SHADOWED = frozenset(
    {
        "plane",
        "helicopter",
        "storage tank",
        "large vehicle",
        "small vehicle",
        "van",
        "bus",
        "trailer",
        "building",
        "stadium",
        "person",
        "train station",
    }
)

__all__ = ["CAR_COLORS", "SHADOWED", "SHAPES", "Part", "bar"]
