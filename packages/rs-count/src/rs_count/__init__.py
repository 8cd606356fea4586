"""rs-count: the RemoteCount benchmark (can a CLIP model count 1-10 objects in aerial images?), standalone.

rs-count is the benchmark's definition: its selection rules (:mod:`~rs_count.selection`, settings in
:class:`BuildRules`), its counterfactual captions (:mod:`~rs_count.captions`), its metrics and report. The
rest is shared: DOTA labels, class names, images and the conversion that writes the chosen images (its
workers, its report) through rs-annotate (torch-free); embeddings, the embedding cache, device and
precision through rs-clip-eval. Never DeepSpeed, and Ray only when the build is asked to convert on it
(rs-annotate's ``ray`` extra).

    from rs_count import BuildRules, EvalConfig, build, evaluate_model
    build("DOTA/val/labelTxt", "DOTA/val/images", "remotecount-ds", BuildRules(balanced=True))
    [words, digits] = evaluate_model("runs/ckpt-final", "remotecount-ds", variants=("words", "digits"),
                                     config=EvalConfig(precision="amp_bf16"))
    write_report([words, digits], "report")   # what `rs-count eval --out report` writes
"""

from rs_clip_eval import EmbeddingCache, EvalConfig
from rs_clip_models.spec import ModelSpec
from rs_formats.console import package_version

from .build import BuildReport, build
from .captions import DEFAULT_TEMPLATE, CaptionTemplate
from .classes import REMOTECOUNT_CLASSES
from .evaluate import CountResult, evaluate, evaluate_embedder, evaluate_model, evaluate_variants
from .importer import import_annotations
from .metrics import CountMetrics, count_metrics
from .report import load_reference, write_report
from .rules import BuildRules

__version__ = package_version("rs-count")

__all__ = [
    "DEFAULT_TEMPLATE",
    "REMOTECOUNT_CLASSES",
    "BuildReport",
    "BuildRules",
    "CaptionTemplate",
    "CountMetrics",
    "CountResult",
    "EmbeddingCache",
    "EvalConfig",
    "ModelSpec",
    "__version__",
    "build",
    "count_metrics",
    "evaluate",
    "evaluate_embedder",
    "evaluate_model",
    "evaluate_variants",
    "import_annotations",
    "load_reference",
    "write_report",
]
