"""rs-synth: deterministic synthetic aerial scenes written in the real remote-sensing label formats.

>>> from rs_synth import FORMATS
>>> truth = FORMATS["dota"].write("/tmp/dota", n=8, seed=0, size=256)  # doctest: +SKIP

Same seed, same bytes; image ``i`` depends only on (seed, format, i).
"""

from rs_formats.console import package_version

from .registry import FORMATS, Format
from .scenes import Placement, Scene, SceneObject, render_scene
from .themes import compose_scene, counting_scene, sample_scene
from .truth import TRUTH_FILE, ImageTruth, ObjectTruth, Truth

__version__ = package_version("rs-synth")

__all__ = [
    "FORMATS",
    "Format",
    "ImageTruth",
    "ObjectTruth",
    "Placement",
    "Scene",
    "SceneObject",
    "TRUTH_FILE",
    "Truth",
    "compose_scene",
    "counting_scene",
    "render_scene",
    "sample_scene",
    "__version__",
]
