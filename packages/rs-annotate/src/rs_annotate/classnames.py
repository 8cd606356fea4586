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
"""

from __future__ import annotations

from rs_formats.wording import class_phrase

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

#: The one rule (rs_formats.wording.class_phrase); rs-annotate's readers pass their source's table.
normalize = class_phrase
