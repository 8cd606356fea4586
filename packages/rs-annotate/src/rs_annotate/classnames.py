"""Class names as natural lower-case English phrases, the way captions use them.

Sources spell classes in their own ways: ``small-vehicle`` (DOTA), ``baseballfield`` and
``Expressway-toll-station`` (DIOR), ``Ground_Track_Field`` (iSAID), ``T junction`` (HRRSD). A caption
should say "small vehicle", "baseball field", "expressway toll station", "ground track field",
"t junction". :func:`normalize` looks the raw name up in a per-source table first (for words a source
glued together, which no generic rule can split), then applies the generic rules.

The words themselves are kept as the source says: DOTA's "plane" stays "plane", DIOR's "airplane"
stays "airplane", DIOR's "vehicle" stays "vehicle". Merging synonyms across sources is a policy decision
for whoever builds a corpus, not something a reader should do silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

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

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[-_\s]+")


def _key(raw: str) -> str:
    return raw.strip().lower()


def normalize(raw: str, table: Mapping[str, str] | None = None) -> str:
    """``raw`` as a natural lower-case phrase: ``table`` first, then generic rules.

    Table keys match case-insensitively. Generic rules: camelCase is split ("storageTank" ->
    "storage tank"), hyphens and underscores become spaces, whitespace is collapsed, and the result is
    lower-cased. An empty name raises ``ValueError``.
    """
    if table:
        hit = table.get(raw)
        if hit is None:
            lowered = {_key(k): v for k, v in table.items()}
            hit = lowered.get(_key(raw))
        if hit is not None:
            return hit
    text = _CAMEL.sub(" ", raw.strip())
    text = _SEPARATORS.sub(" ", text).strip().lower()
    if not text:
        raise ValueError(f"empty class name {raw!r}")
    return text
