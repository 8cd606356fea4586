"""One module per source format; each ``write*(out_dir, n, seed=0, size=..., overwrite=False) -> Truth``.

Use :data:`rs_synth.FORMATS` to look writers up by format name."""
