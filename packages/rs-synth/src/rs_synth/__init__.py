"""rs-synth: deterministic synthetic aerial scenes written in the real remote-sensing label formats.

>>> from rs_synth import FORMATS
>>> truth = FORMATS["dota"].write("/tmp/dota", n=8, seed=0, size=256)  # doctest: +SKIP

Same seed, same bytes; image ``i`` depends only on (seed, format, i).
"""

from rs_formats.lazy import lazy_exports

__all__ = lazy_exports(
    __name__,
    "rs-synth",
    {
        ".registry": ("FORMATS", "Format"),
        ".scenes": ("Placement", "Scene", "SceneObject", "render_scene"),
        ".themes": ("compose_scene", "counting_scene", "sample_scene"),
        ".truth": ("TRUTH_FILE", "ImageTruth", "ObjectTruth", "Truth"),
    },
)
