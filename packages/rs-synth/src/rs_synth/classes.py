"""Class catalogue: the natural class names used inside rs-synth and each source format's own spelling.

Natural names are the lower-case English phrases captions use ("storage tank", "soccer field"). Every
writer maps them to the label its real format uses (DOTA ``storage-tank``, DIOR ``storagetank``,
RSOD ``oiltank``, ...). Classes that have no label in a format are never drawn in that format's scenes,
so every drawn object is labelled.
"""

from __future__ import annotations

DOTA_V1: dict[str, str] = {
    "plane": "plane",
    "ship": "ship",
    "storage tank": "storage-tank",
    "baseball diamond": "baseball-diamond",
    "tennis court": "tennis-court",
    "basketball court": "basketball-court",
    "ground track field": "ground-track-field",
    "harbor": "harbor",
    "bridge": "bridge",
    "large vehicle": "large-vehicle",
    "small vehicle": "small-vehicle",
    "helicopter": "helicopter",
    "roundabout": "roundabout",
    "soccer field": "soccer-ball-field",
    "swimming pool": "swimming-pool",
}

# RemoteCount (RemoteCLIP paper, Sec. 4.5): 13 DOTA classes, i.e. DOTA v1.0 without the two vehicle classes.
REMOTECOUNT: tuple[str, ...] = (
    "plane",
    "helicopter",
    "roundabout",
    "bridge",
    "baseball diamond",
    "ground track field",
    "basketball court",
    "tennis court",
    "harbor",
    "soccer field",
    "swimming pool",
    "ship",
    "storage tank",
)

DIOR: dict[str, str] = {
    "plane": "airplane",
    "airport": "airport",
    "baseball diamond": "baseballfield",
    "basketball court": "basketballcourt",
    "bridge": "bridge",
    "chimney": "chimney",
    "dam": "dam",
    "expressway service area": "Expressway-Service-area",
    "expressway toll station": "Expressway-toll-station",
    "golf field": "golffield",
    "ground track field": "groundtrackfield",
    "harbor": "harbor",
    "overpass": "overpass",
    "ship": "ship",
    "stadium": "stadium",
    "storage tank": "storagetank",
    "tennis court": "tenniscourt",
    "train station": "trainstation",
    "small vehicle": "vehicle",
    "windmill": "windmill",
}

HRRSD: dict[str, str] = {
    "plane": "airplane",
    "baseball diamond": "baseball diamond",
    "basketball court": "basketball court",
    "bridge": "bridge",
    "crossroad": "crossroad",
    "ground track field": "ground track field",
    "harbor": "harbor",
    "parking lot": "parking lot",
    "ship": "ship",
    "storage tank": "storage tank",
    "t junction": "T junction",
    "tennis court": "tennis court",
    "small vehicle": "vehicle",
}

RSOD: dict[str, str] = {
    "plane": "aircraft",
    "storage tank": "oiltank",
    "overpass": "overpass",
    "ground track field": "playground",
}

# LEVIR (Zou & Shi 2018): per-image "class x1 y1 x2 y2", 1 = plane, 2 = ship, 3 = oil tank ("oilpot").
LEVIR: dict[str, int] = {"plane": 1, "ship": 2, "storage tank": 3}

# iSAID devkit / mmsegmentation order and palette (index 0 = background).
ISAID_CLASSES: tuple[str, ...] = (
    "background",
    "ship",
    "storage tank",
    "baseball diamond",
    "tennis court",
    "basketball court",
    "ground track field",
    "bridge",
    "large vehicle",
    "small vehicle",
    "helicopter",
    "swimming pool",
    "roundabout",
    "soccer field",
    "plane",
    "harbor",
)
ISAID_PALETTE: tuple[tuple[int, int, int], ...] = (
    (0, 0, 0),
    (0, 0, 63),
    (0, 63, 63),
    (0, 63, 0),
    (0, 63, 127),
    (0, 63, 191),
    (0, 63, 255),
    (0, 127, 63),
    (0, 127, 127),
    (0, 0, 127),
    (0, 0, 191),
    (0, 0, 255),
    (0, 191, 127),
    (0, 127, 191),
    (0, 127, 255),
    (0, 100, 155),
)

# Drone datasets: format label -> rs-synth shape.
VISDRONE: dict[int, tuple[str, str | None]] = {
    0: ("ignored regions", None),
    1: ("pedestrian", "person"),
    2: ("people", "person"),
    3: ("bicycle", "bicycle"),
    4: ("car", "small vehicle"),
    5: ("van", "van"),
    6: ("truck", "large vehicle"),
    7: ("tricycle", "tricycle"),
    8: ("awning-tricycle", "awning tricycle"),
    9: ("bus", "bus"),
    10: ("motor", "motorcycle"),
    11: ("others", "cart"),
}
AUAIR: tuple[tuple[str, str], ...] = (
    ("Human", "person"),
    ("Car", "small vehicle"),
    ("Truck", "large vehicle"),
    ("Van", "van"),
    ("Motorbike", "motorcycle"),
    ("Bicycle", "bicycle"),
    ("Bus", "bus"),
    ("Trailer", "trailer"),
)
SDD: dict[str, str] = {
    "Pedestrian": "person",
    "Biker": "bicycle",
    "Skater": "skateboarder",
    "Cart": "cart",
    "Car": "small vehicle",
    "Bus": "bus",
}
