"""rs-clip-models: the model runtime every rs-clip tool that runs a CLIP model shares.

* :mod:`rs_clip_models.spec` and :mod:`rs_clip_models.sources`: what a ``--model`` (or ``--init``) argument
  names; the model zoo (:mod:`rs_clip_models.zoo`), open_clip's Hugging Face folders
  (:mod:`rs_clip_models.hub`) and what a store holds (:mod:`rs_clip_models.stored_checkpoint`).
* :mod:`rs_clip_models.models`: building networks and loading weights into them, from local files only
  (:mod:`rs_clip_models.weights` reads weights files without unpickling Python objects).
* :mod:`rs_clip_models.device_decode` and :mod:`rs_clip_models.device_feed`: feeding images to a GPU.

The formats these read and write (``rs-dataset``, ``rs-clip-checkpoint``) are rs-formats' contracts;
``import rs_clip_models`` itself imports no torch: each module does, when it is imported.
"""

from rs_formats.lazy import lazy_exports

# No public names of its own here (its modules are imported by name): only __version__, looked up when asked.
__all__ = lazy_exports(__name__, "rs-clip-models", {})
