import os
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from rs_clip_train.loss import MAX_LOGIT_SCALE, clip_loss

B, DI, DT, D = 8, 10, 7, 5


def _toy(seed: int = 0):
    """Two linear encoders and a learnable scale: enough to check values and gradients exactly."""
    g = torch.Generator().manual_seed(seed)
    images, texts = torch.randn(B, DI, generator=g), torch.randn(B, DT, generator=g)
    enc_i = torch.nn.Linear(DI, D)
    enc_t = torch.nn.Linear(DT, D)
    with torch.no_grad():
        for p in [*enc_i.parameters(), *enc_t.parameters()]:
            p.copy_(torch.randn(p.shape, generator=g))
    scale = torch.nn.Parameter(torch.tensor([2.0]))
    return images, texts, enc_i, enc_t, scale


def _loss(enc_i, enc_t, scale, images, texts):
    return clip_loss(F.normalize(enc_i(images), dim=-1), F.normalize(enc_t(texts), dim=-1), scale)


def _grads(*modules):
    return torch.cat([p.grad.reshape(-1) for m in modules for p in m.parameters()])


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    images, texts, enc_i, enc_t, scale = _toy()
    n = B // world
    mine = slice(rank * n, (rank + 1) * n)
    loss = _loss(enc_i, enc_t, scale, images[mine], texts[mine])
    loss.backward()
    # What DeepSpeed (and DDP) do with the workers' gradients: average them.
    grads = torch.cat([_grads(enc_i, enc_t), scale.grad])
    dist.all_reduce(grads)
    grads /= world
    total = loss.detach().clone()
    dist.all_reduce(total)
    if rank == 0:
        torch.save({"loss": total / world, "grads": grads}, out)
    dist.barrier()
    dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_equal_one_worker_on_the_global_batch(tmp_path: Path):
    images, texts, enc_i, enc_t, scale = _toy()
    loss = _loss(enc_i, enc_t, scale, images, texts)
    loss.backward()
    single = torch.cat([_grads(enc_i, enc_t), scale.grad])

    out = tmp_path / "two.pt"
    mp.spawn(_worker, args=(2, _free_port(), str(out)), nprocs=2, join=True)
    two = torch.load(out, weights_only=True)
    assert two["loss"].item() == pytest.approx(loss.item(), rel=1e-6)
    assert torch.allclose(two["grads"], single, rtol=1e-5, atol=1e-7)
    assert single.abs().sum() > 0


def test_loss_is_symmetric_and_matches_the_definition():
    images, texts, enc_i, enc_t, scale = _toy(1)
    fi, ft = F.normalize(enc_i(images), dim=-1), F.normalize(enc_t(texts), dim=-1)
    assert clip_loss(fi, ft, scale).item() == pytest.approx(clip_loss(ft, fi, scale).item(), rel=1e-6)
    logits = scale.exp() * fi @ ft.T
    labels = torch.arange(B)
    expected = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
    assert clip_loss(fi, ft, scale).item() == pytest.approx(expected.item(), rel=1e-6)


def test_logit_scale_is_clamped_at_100():
    images, texts, enc_i, enc_t, _ = _toy(2)
    fi, ft = F.normalize(enc_i(images), dim=-1), F.normalize(enc_t(texts), dim=-1)
    big = torch.nn.Parameter(torch.tensor([MAX_LOGIT_SCALE + 3.0]))
    at_max = torch.tensor([MAX_LOGIT_SCALE])
    assert clip_loss(fi, ft, big).item() == pytest.approx(clip_loss(fi, ft, at_max).item(), rel=1e-6)
    clip_loss(fi, ft, big).backward()
    assert big.grad.abs().item() == 0.0  # beyond the clamp the scale stops moving, as in CLIP


def test_loss_decreases_on_a_separable_toy():
    torch.manual_seed(0)
    classes = torch.randn(4, DI)
    labels = torch.arange(64) % 4
    images = classes[labels] + 0.1 * torch.randn(64, DI)
    texts = F.one_hot(labels, 4).float()
    enc_i, enc_t = torch.nn.Linear(DI, D), torch.nn.Linear(4, D)
    scale = torch.nn.Parameter(torch.tensor([2.0]))
    opt = torch.optim.Adam([*enc_i.parameters(), *enc_t.parameters(), scale], lr=0.05)
    first = None
    for _ in range(60):
        # One sample per class: in-batch negatives of other classes are what the loss separates.
        idx = torch.stack([torch.nonzero(labels == c)[torch.randint(16, (1,))].squeeze() for c in range(4)])
        loss = _loss(enc_i, enc_t, scale, images[idx], texts[idx])
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * first
