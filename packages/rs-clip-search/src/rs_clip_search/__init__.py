"""rs-clip-search: find scenes in your own imagery by text or by example, from a folder to a web page.

:mod:`~rs_clip_search.tiles` cuts scenes into tiles, :mod:`~rs_clip_search.encoder` embeds them with a
CLIP model, :mod:`~rs_clip_search.build` and :mod:`~rs_clip_search.store` write and read the index folder
(``rs-search-index``), :mod:`~rs_clip_search.queries` answers queries, :mod:`~rs_clip_search.app` serves
the page, :mod:`~rs_clip_search.cli` is the command line.
"""

from rs_formats.console import package_version

from .build import add_to_index, build_index
from .encoder import Encoder, ModelEncoder
from .queries import more_like, search_image, search_text, search_vector, tile_info
from .store import FORMAT, FORMAT_VERSION, GraphParams, SearchIndex

__version__ = package_version("rs-clip-search")
__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Encoder",
    "GraphParams",
    "ModelEncoder",
    "SearchIndex",
    "__version__",
    "add_to_index",
    "build_index",
    "more_like",
    "search_image",
    "search_text",
    "search_vector",
    "tile_info",
]
