"""Does a tiny CLIP learn from rs-synth scenes? Trains open_clip's CLIP (image 64 px, ViT patch 16, 2 layers,
width 64) on synthetic caption scenes for a few CPU minutes, then measures, against chance: caption->image
retrieval on held-out scenes, zero-shot classification of the ImageFolder classes, and RemoteCount-style
counting (pick the right number word among ten captions). Needs torch + open_clip (not rs-synth deps).
Prints the figures and writes JSON (default: learnability.json here)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from PIL import Image

from rs_formats.wording import be, count_phrase
from rs_synth.captions import scene_captions
from rs_synth.classes import REMOTECOUNT
from rs_synth.themes import compose_scene, counting_scene
from rs_synth.writers._base import image_rng
from rs_synth.writers.captions import make_scene
from rs_synth.writers.imagefolder import CLASSES as FOLDERS

MEAN = torch.tensor([0.48, 0.48, 0.45]).view(1, 3, 1, 1)
STD = torch.tensor([0.27, 0.26, 0.28]).view(1, 3, 1, 1)


def to_tensor(images: list[np.ndarray], px: int) -> torch.Tensor:
    arr = np.stack([np.asarray(Image.fromarray(a).resize((px, px), Image.BILINEAR)) for a in images])
    return (torch.from_numpy(arr).permute(0, 3, 1, 2).float() / 255 - MEAN) / STD


def caption_data(n: int, seed: int, size: int) -> tuple[list[np.ndarray], list[list[str]]]:
    imgs, caps = [], []
    for i in range(n):
        rng = image_rng(seed, "learnability", i)
        s = make_scene(rng, size)
        imgs.append(s.image)
        caps.append(scene_captions(rng, s))
    return imgs, caps


def tiny_clip() -> open_clip.CLIP:
    return open_clip.CLIP(
        embed_dim=64,
        vision_cfg=open_clip.CLIPVisionCfg(layers=2, width=64, head_width=32, patch_size=16, image_size=64),
        text_cfg=open_clip.CLIPTextCfg(context_length=32, vocab_size=49408, width=64, heads=2, layers=2),
    )


def tok(texts: list[str]) -> torch.Tensor:
    return open_clip.tokenize(texts, context_length=32)


@torch.no_grad()
def embed(model, images: torch.Tensor | None = None, texts: list[str] | None = None) -> torch.Tensor:
    if images is not None:
        return F.normalize(
            torch.cat([model.encode_image(images[i : i + 256]) for i in range(0, len(images), 256)]), dim=-1
        )
    return F.normalize(
        torch.cat([model.encode_text(tok(texts[i : i + 256])) for i in range(0, len(texts), 256)]), dim=-1
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--train", type=int, default=3000, help="training scenes")
    ap.add_argument("--steps", type=int, default=1500, help="training steps")
    ap.add_argument("--batch", type=int, default=128, help="batch size")
    ap.add_argument("--size", type=int, default=128, help="rendered scene size before resizing to 64 px")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--out", default=str(Path(__file__).with_suffix(".json")), help="JSON result path")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    t0 = time.time()
    imgs, caps = caption_data(args.train, 0, args.size)
    x = to_tensor(imgs, 64)
    test_imgs, test_caps = caption_data(200, 1, args.size)
    xt = to_tensor(test_imgs, 64)
    t_data = time.time() - t0
    model = tiny_clip()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=args.steps, pct_start=0.1)
    rng = np.random.default_rng(0)
    t1 = time.time()
    model.train()
    for step in range(args.steps):
        idx = rng.choice(len(imgs), args.batch, replace=False)
        texts = [caps[i][int(rng.integers(5))] for i in idx]
        img_f = F.normalize(model.encode_image(x[idx]), dim=-1)
        txt_f = F.normalize(model.encode_text(tok(texts)), dim=-1)
        logits = model.logit_scale.exp() * img_f @ txt_f.T
        labels = torch.arange(len(idx))
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == args.steps - 1:
            print(f"step {step:5d} loss {loss.item():.3f}", flush=True)
    t_train = time.time() - t1
    model.eval()
    res: dict = {
        "train_scenes": args.train,
        "steps": args.steps,
        "batch": args.batch,
        "data_s": round(t_data, 1),
        "train_s": round(t_train, 1),
    }

    # Retrieval: each test caption -> its image among 200.
    im_e = embed(model, images=xt)
    flat = [c for cs in test_caps for c in cs]
    owner = torch.tensor([i for i, cs in enumerate(test_caps) for _ in cs])
    tx_e = embed(model, texts=flat)
    rank = (tx_e @ im_e.T).argsort(dim=1, descending=True)
    hit = rank == owner[:, None]
    res["retrieval"] = {
        "t2i_R@1": hit[:, :1].any(1).float().mean().item(),
        "t2i_R@5": hit[:, :5].any(1).float().mean().item(),
        "chance_R@1": 1 / len(test_imgs),
        "chance_R@5": 5 / len(test_imgs),
    }

    # Zero-shot over the ImageFolder classes.
    names = [v[0] for v in FOLDERS.values()]
    zi, zl = [], []
    for i in range(20 * len(FOLDERS)):
        rng_i = image_rng(2, "learnability-zs", i)
        k = i % len(FOLDERS)
        _, grounds, waters, wants, scale = list(FOLDERS.values())[k]
        objs = [c for c, (lo, hi) in wants.items() for _ in range(int(rng_i.integers(lo, hi + 1)))]
        s = compose_scene(
            rng_i,
            args.size,
            grounds[int(rng_i.integers(len(grounds)))],
            objs,
            waters[int(rng_i.integers(len(waters)))],
            scale,
        )
        zi.append(s.image)
        zl.append(k)
    ze = embed(model, images=to_tensor(zi, 64))
    ce = embed(model, texts=[f"a satellite image of {n}" for n in names])
    pred = (ze @ ce.T).argmax(1).numpy()
    res["zero_shot"] = {
        "classes": len(names),
        "top1": float((pred == np.array(zl)).mean()),
        "chance": 1 / len(names),
    }

    # Counting: for each image, the right number among "one..ten <class>".
    ok, near = [], []
    for i in range(260):
        rng_i = image_rng(3, "learnability-count", i)
        cls, n = REMOTECOUNT[i % len(REMOTECOUNT)], (i // len(REMOTECOUNT)) % 10 + 1
        s = counting_scene(rng_i, args.size, cls, n)
        e = embed(model, images=to_tensor([s.image], 64))
        cands = [f"there {be(k)} {count_phrase(k, cls)} in this image" for k in range(1, 11)]
        p = int((e @ embed(model, texts=cands).T).argmax()) + 1
        ok.append(p == n)
        near.append(abs(p - n) <= 1)
    res["counting"] = {
        "top1": float(np.mean(ok)),
        "within1": float(np.mean(near)),
        "chance_top1": 0.1,
        "chance_within1": 0.28,
    }
    print(json.dumps(res, indent=1))
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
