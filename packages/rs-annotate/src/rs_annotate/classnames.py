"""Class names as natural lower-case English phrases, the way captions use them.

Sources spell classes in their own ways: ``small-vehicle`` (DOTA), ``baseballfield`` and
``Expressway-toll-station`` (DIOR), ``Ground_Track_Field`` (iSAID), ``T junction`` (HRRSD). A caption
should say "small vehicle", "baseball field", "expressway toll station", "ground track field",
"t junction". The rule is :func:`rs_formats.wording.class_phrase` (one rule for every package);
this module holds the per-source tables it looks up first (for words a source glued together, which no
generic rule can split).

The words themselves are kept as the source says: DOTA's "plane" stays "plane", DIOR's "airplane"
stays "airplane", DIOR's "vehicle" stays "vehicle". Merging synonyms across sources is a policy decision
for whoever builds a corpus, not something a reader should do silently.

Sources that publish a fixed class list (DOTA, DIOR, HRRSD, RSOD, SDD) have it here as natural names
(``*_CLASSES``); :func:`check_class` matches a label against it regardless of case, spaces, hyphens and
underscores (:func:`class_key`: the Hugging Face / torchgeo copy of DIOR writes
``expresswayservicearea``, the original ``Expressway-Service-area``), and refuses a name that matches none,
naming the file and line, so that a typo in a label file ("smal-vehicle") never becomes a caption. A
reader's ``extra_classes`` option admits more names for datasets that extend a source
(:func:`published_classes`). This is the one place class names are matched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from rs_formats.wording import class_phrase

from .types import BadInput

# Words DIOR writes as one token (the DIOR paper's class list, as in its XML files).
DIOR: dict[str, str] = {
    "baseballfield": "baseball field",
    "basketballcourt": "basketball court",
    "golffield": "golf field",
    "groundtrackfield": "ground track field",
    "storagetank": "storage tank",
    "tenniscourt": "tennis court",
    "trainstation": "train station",
    "expressway-service-area": "expressway service area",
    "expressway-toll-station": "expressway toll station",
}

# RSOD's folder/XML names.
RSOD: dict[str, str] = {"oiltank": "oil tank"}

# HRRSD already uses spaced names ("storage tank", "T junction"); only case needs fixing.
HRRSD: dict[str, str] = {}

# DOTA v1.0/1.5/2.0 use hyphens throughout, which the generic rules handle.
DOTA: dict[str, str] = {}

#: DOTA v1.0 (15 classes), plus v1.5's container crane and v2.0's airport and helipad.
DOTA_CLASSES = frozenset(
    {
        "plane",
        "ship",
        "storage tank",
        "baseball diamond",
        "tennis court",
        "basketball court",
        "ground track field",
        "harbor",
        "bridge",
        "large vehicle",
        "small vehicle",
        "helicopter",
        "roundabout",
        "soccer ball field",
        "swimming pool",
        "container crane",
        "airport",
        "helipad",
    }
)
#: DIOR's 20 classes (the DIOR paper; also DIOR-R's).
DIOR_CLASSES = frozenset(
    {
        "airplane",
        "airport",
        "baseball field",
        "basketball court",
        "bridge",
        "chimney",
        "dam",
        "expressway service area",
        "expressway toll station",
        "golf field",
        "ground track field",
        "harbor",
        "overpass",
        "ship",
        "stadium",
        "storage tank",
        "tennis court",
        "train station",
        "vehicle",
        "windmill",
    }
)
#: HRRSD's 13 classes (the TGRS-HRRSD-Dataset README).
HRRSD_CLASSES = frozenset(
    {
        "airplane",
        "baseball diamond",
        "basketball court",
        "bridge",
        "crossroad",
        "ground track field",
        "harbor",
        "parking lot",
        "ship",
        "storage tank",
        "t junction",
        "tennis court",
        "vehicle",
    }
)
#: RSOD's 4 classes.
RSOD_CLASSES = frozenset({"aircraft", "oil tank", "overpass", "playground"})
#: The Stanford Drone Dataset's 6 agent labels.
SDD_CLASSES = frozenset({"pedestrian", "biker", "skater", "cart", "car", "bus"})

#: The one rule (rs_formats.wording.class_phrase); rs-annotate's readers pass their source's table.
normalize = class_phrase


def published_classes(
    table: frozenset[str] | None, extra: str | Iterable[str] | None = None
) -> frozenset[str] | None:
    """A source's published classes plus ``extra`` (names or a comma-separated string; normalised);
    None when the source publishes no list (every name is accepted)."""
    if table is None:
        return None
    names = [n for n in extra.split(",")] if isinstance(extra, str) else list(extra or ())
    return table | {normalize(n) for n in names if str(n).strip()}


def class_key(name: str) -> str:
    """``name`` lower-cased without spaces, hyphens and underscores: what two spellings of a published
    class have in common (``Expressway-Service-area``, ``expresswayservicearea``)."""
    return re.sub(r"[\s_-]+", "", name.lower())


def check_class(
    raw: str,
    path: str | Path,
    line: int | None,
    *,
    table: Mapping[str, str] | None = None,
    classes: frozenset[str] | None = None,
) -> str:
    """:func:`normalize`, or the published class in ``classes`` with the same :func:`class_key`; refuses an
    empty name or one matching none of ``classes`` (BadInput naming file and line)."""
    try:
        name = normalize(raw, table)
    except ValueError:
        raise BadInput(path, f"empty class name {raw!r}", line, kind="unknown-class") from None
    if classes is None or name in classes:
        return name
    name = {class_key(c): c for c in classes}.get(class_key(raw))
    if name is None:
        raise BadInput(
            path,
            f"class {raw!r} is not one of the source's classes ({', '.join(sorted(classes))}); "
            f"a typo? (reader option extra_classes={raw} accepts it)",
            line,
            kind="unknown-class",
        )
    return name
