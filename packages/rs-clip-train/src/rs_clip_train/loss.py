"""Symmetric InfoNCE (the CLIP objective) over the global batch of all workers.

Each worker gathers every worker's features with :func:`torch.distributed.nn.all_gather`, whose backward
sums the gradients of all workers' losses back onto the local features ("gather with grad"), and scores
only its own rows against all columns ("local loss", as open_clip's ``ClipLoss(local_loss=True,
gather_with_grad=True)``). The engine averages parameter gradients over workers, so W workers on a
global batch of B produce exactly the loss and gradients of one worker on the same B, at O(B/W x B)
memory per worker instead of O(B x B).
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

#: CLIP clamps the learnable logit scale at 100 (temperature 0.01) to keep training stable.
MAX_LOGIT_SCALE = math.log(100.0)


def _world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def gather_features(features: torch.Tensor) -> torch.Tensor:
    """All workers' rows concatenated in rank order; gradients flow back to every worker's rows."""
    _, world = _world()
    if world == 1:
        return features
    import torch.distributed.nn as dist_nn  # imported lazily: it registers autograd functions

    with warnings.catch_warnings():
        # Deprecated in favour of a private module whose backward needs reduce_scatter, which gloo lacks.
        warnings.simplefilter("ignore", FutureWarning)
        return torch.cat(dist_nn.all_gather(features.contiguous()), dim=0)


def clip_loss(
    image_features: torch.Tensor,
    text_features: torch.Tensor,
    logit_scale: torch.Tensor,
) -> torch.Tensor:
    """Symmetric InfoNCE of this worker's rows against the global batch.

    ``image_features`` and ``text_features`` are this worker's L2-normalised [b, d] embeddings;
    ``logit_scale`` is the (log) learnable parameter, clamped at log(100) before use as in CLIP.
    Every worker must hold the same number of rows.
    """
    rank, world = _world()
    scale = logit_scale.clamp(max=MAX_LOGIT_SCALE).exp().reshape(())
    image_features = image_features.float()
    text_features = text_features.float()
    all_images = gather_features(image_features)
    all_texts = gather_features(text_features)
    logits_per_image = scale * image_features @ all_texts.T
    logits_per_text = scale * text_features @ all_images.T
    n = image_features.shape[0]
    labels = torch.arange(n, device=image_features.device) + rank * n
    return (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)) / 2


class ContrastiveModel(nn.Module):
    """An open_clip CLIP plus its loss, so one engine forward runs both under the engine's autocast."""

    def __init__(self, clip: nn.Module):
        super().__init__()
        self.clip = clip

    def forward(self, images: torch.Tensor, texts: torch.Tensor) -> torch.Tensor:
        image_features = self.clip.encode_image(images, normalize=True)
        text_features = self.clip.encode_text(texts, normalize=True)
        return clip_loss(image_features, text_features, self.clip.logit_scale)
