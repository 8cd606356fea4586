"""aerial-audit: an example project built on rs-annotate and rs-count through their Python APIs.

from aerial_audit import caption_labels, count_objects
captions = caption_labels("my-dota", "out/captions")          # torch-free
counting = count_objects("my-dota", "runs/final", "out/counting")
"""

__version__ = "0.1.0"

from .audit import audit, caption_labels, count_objects  # noqa: E402

__all__ = ["__version__", "audit", "caption_labels", "count_objects"]
