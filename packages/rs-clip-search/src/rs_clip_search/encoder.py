"""The model behind an index: tiles and query texts to L2-normalised vectors.

An :class:`Encoder` is anything with ``images(list of uint8 HxWx3 arrays)`` and ``texts(list of str)``
returning float32 ``[n, D]`` unit vectors, plus a ``fingerprint`` naming the weights. :class:`ModelEncoder`
loads a ``--model`` spec (the grammar of rs-clip-eval, :class:`rs_clip_models.spec.ModelSpec`) through the
project's strict local loading and embeds texts with :func:`rs_clip_models.encoding.encode_texts`. Tiles arrive
as pixel arrays, not dataset rows, so images are preprocessed here one batch at a time (the dataset
streaming of :func:`rs_clip_models.encoding.encode_images` has no use without a dataset).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np


class Encoder(Protocol):
    fingerprint: str

    def images(self, tiles: Sequence[np.ndarray]) -> np.ndarray: ...

    def texts(self, texts: Sequence[str]) -> np.ndarray: ...


class ModelEncoder:
    """A zoo model or checkpoint, loaded on first use."""

    def __init__(self, spec_text: str, device: str = "cpu", precision: str = "fp32", batch_size: int = 64):
        from rs_clip_models.spec import ModelSpec

        self.spec = ModelSpec.parse(spec_text)
        self.device, self.precision, self.batch_size = device, precision, batch_size
        self.fingerprint = self.spec.fingerprint()
        self._loaded: tuple[Any, Any, Any] | None = None

    def describe(self) -> dict[str, Any]:
        """What the manifest records; ``source`` is the spec with its path made absolute, which ``serve``
        loads again wherever it runs."""
        from rs_clip_models.sources import absolute

        text, prefix = self.spec.text, f"{self.spec.label}="
        source = text[len(prefix) :] if text.startswith(prefix) else text
        source = source if self.spec.kind == "random" else absolute(source)
        return {
            **self.spec.to_dict(),
            "source": source,
            "fingerprint": self.fingerprint,
            "precision": self.precision,
        }

    def _model(self) -> tuple[Any, Any, Any]:
        if self._loaded is None:
            from rs_clip_models.models import load_spec

            self._loaded = load_spec(self.spec, self.device, self.precision)
        return self._loaded

    def images(self, tiles: Sequence[np.ndarray]) -> np.ndarray:
        import torch
        from PIL import Image

        from rs_clip_models.models import autocast

        model, preprocess, _ = self._model()
        out = []
        with torch.no_grad(), autocast(self.device, self.precision):
            for start in range(0, len(tiles), self.batch_size):
                batch = torch.stack(
                    [preprocess(Image.fromarray(t)) for t in tiles[start : start + self.batch_size]]
                )
                feats = model.encode_image(batch.to(self.device), normalize=True)
                out.append(feats.float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        from rs_clip_models.encoding import encode_texts
        from rs_clip_models.models import autocast

        model, _, tokenizer = self._model()
        with autocast(self.device, self.precision):
            return encode_texts(model, tokenizer, list(texts), device=self.device)
