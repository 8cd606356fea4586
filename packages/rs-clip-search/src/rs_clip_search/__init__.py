"""rs-clip-search: find scenes in your own imagery by text or by example, from a folder to a web page.

:mod:`~rs_clip_search.tiles` cuts scenes into tiles, :mod:`~rs_clip_search.encoder` embeds them with a
CLIP model, :mod:`~rs_clip_search.build` and :mod:`~rs_clip_search.store` write and read the index folder
(``rs-search-index``), :mod:`~rs_clip_search.queries` answers queries, :mod:`~rs_clip_search.app` serves
the page, :mod:`~rs_clip_search.cli` is the command line.
"""

from rs_formats.lazy import lazy_exports

__all__ = lazy_exports(
    __name__,
    "rs-clip-search",
    {
        ".build": ("add_to_index", "build_index"),
        ".encoder": ("Encoder", "ModelEncoder"),
        ".options": ("GraphParams",),
        ".queries": ("more_like", "search_image", "search_text", "search_vector", "tile_info"),
        ".store": ("FORMAT", "FORMAT_VERSION", "SearchIndex"),
    },
)
