"""RemoteCount's 13 classes and how DOTA (v1.0, v1.5, v2.0) spells them.

Inside rs-count a class is always its natural English name ("storage tank", "soccer field"): that is what
captions say and what the dataset's ``count_label`` column stores. Label files may use DOTA's hyphenated
spelling (``storage-tank``, ``soccer-ball-field``), underscores or spaces; :func:`normalize_class` maps
them all to the natural name.
"""

from __future__ import annotations

from collections.abc import Iterable

#: RemoteCount (RemoteCLIP paper, Sec. IV-B-2): the 13 DOTA v1.0 classes without the two vehicle classes.
#: The order is the benchmark's class order in reports.
REMOTECOUNT_CLASSES: tuple[str, ...] = (
    "plane", "helicopter", "roundabout", "bridge", "baseball diamond", "ground track field",
    "basketball court", "tennis court", "harbor", "soccer field", "swimming pool", "ship", "storage tank",
)

#: DOTA classes that exist but are not counted (they still appear in ``objects``).
DOTA_OTHER_CLASSES: tuple[str, ...] = (
    "small vehicle", "large vehicle",  # v1.0
    "container crane",  # v1.5
    "airport", "helipad",  # v2.0
)

# Spellings that are not just the natural name with hyphens: DOTA calls the soccer field a soccer-ball-field.
_ALIASES: dict[str, str] = {"soccer ball field": "soccer field", "storagetank": "storage tank"}


def normalize_class(label: str) -> str:
    """``'baseball-diamond'`` / ``'Baseball_Diamond'`` -> ``'baseball diamond'`` (unknown names pass through)."""
    name = " ".join(label.replace("-", " ").replace("_", " ").lower().split())
    return _ALIASES.get(name, name)


def known_classes(extra: Iterable[str] = ()) -> frozenset[str]:
    """Every natural name a DOTA-format label may use: the 13 counted classes, DOTA's others, ``extra``."""
    return frozenset(REMOTECOUNT_CLASSES) | frozenset(DOTA_OTHER_CLASSES) | {normalize_class(e) for e in extra}
