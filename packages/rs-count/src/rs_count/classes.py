"""RemoteCount's 13 classes and the names DOTA (v1.0, v1.5, v2.0) gives them.

Inside rs-count a class is always its natural English name ("storage tank", "soccer field"): that is what
captions say and what the dataset's ``count_label`` column stores. Label files spell classes their own way
(``storage-tank``, ``Soccer_Ball_Field``); :func:`class_name` reads them with rs-annotate's class-name
rule (:func:`rs_formats.wording.class_phrase`, the one rule every package uses) and then applies the
benchmark's own naming: RemoteCount calls DOTA's soccer-ball-field a "soccer field".
"""

from __future__ import annotations

from collections.abc import Iterable

from rs_formats.wording import class_phrase

#: RemoteCount (RemoteCLIP paper, Sec. IV-B-2): the 13 DOTA v1.0 classes without the two vehicle classes.
#: The order is the benchmark's class order in reports.
REMOTECOUNT_CLASSES: tuple[str, ...] = (
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

#: DOTA classes that exist but are not counted (they still appear in ``objects``).
DOTA_OTHER_CLASSES: tuple[str, ...] = (
    "small vehicle",
    "large vehicle",  # v1.0
    "container crane",  # v1.5
    "airport",
    "helipad",  # v2.0
)

#: RemoteCount's names where they differ from the natural reading of DOTA's (normalised) spelling.
BENCHMARK_NAMES: dict[str, str] = {"soccer ball field": "soccer field", "storagetank": "storage tank"}


def class_name(label: str) -> str:
    """``'baseball-diamond'`` / ``'Soccer_Ball_Field'`` -> ``'baseball diamond'`` / ``'soccer field'``."""
    name = class_phrase(label)
    return BENCHMARK_NAMES.get(name, name)


def known_classes(extra: Iterable[str] = ()) -> frozenset[str]:
    """Every natural name a DOTA-format label may use: the 13 counted classes, DOTA's others, ``extra``."""
    return frozenset(REMOTECOUNT_CLASSES) | frozenset(DOTA_OTHER_CLASSES) | {class_name(e) for e in extra}
