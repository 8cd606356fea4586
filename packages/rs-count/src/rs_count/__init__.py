"""rs-count: the RemoteCount benchmark (can a CLIP model count 1-10 objects in aerial images?), standalone.

Needs torch and open_clip only to evaluate; never imports Ray or DeepSpeed.

    from rs_count import BuildRules, build, evaluate_model
    build("DOTA/val/labelTxt", "DOTA/val/images", "remotecount-ds", BuildRules(balanced=True))
    [words, digits] = evaluate_model("runs/ckpt-final", "remotecount-ds", variants=("words", "digits"))
"""

__version__ = "0.1.0"

from rs_formats.spec import ModelSpec  # noqa: E402

from .build import BuildReport, BuildRules, build  # noqa: E402
from .captions import DEFAULT_TEMPLATE, CaptionTemplate  # noqa: E402
from .classes import REMOTECOUNT_CLASSES  # noqa: E402
from .evaluate import CountResult, evaluate, evaluate_model, evaluate_variants  # noqa: E402
from .importer import import_annotations  # noqa: E402
from .metrics import CountMetrics, count_metrics  # noqa: E402

__all__ = [
    "DEFAULT_TEMPLATE", "REMOTECOUNT_CLASSES", "BuildReport", "BuildRules", "CaptionTemplate", "CountMetrics",
    "CountResult", "ModelSpec", "build", "count_metrics", "evaluate", "evaluate_model", "evaluate_variants",
    "import_annotations",
]
