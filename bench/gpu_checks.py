"""The GPU suite's correctness parts: training through ``rs_clip_train.fit`` (``--launcher none``) as a user
runs it, checked against independent readers (bare open_clip, metrics.jsonl, a second run).

Tolerances: on a GPU the runs use bf16 autocast, whose kernels (and ZeRO's partitioned reductions, and
inductor's fusions) round differently, so losses of runs that should be the same are compared with a
relative tolerance of 2e-2 there and 1e-4 in fp32 on a CPU. The resume check runs in fp32 everywhere
(1e-3 on a GPU), where a skipped or repeated batch stands out of the rounding; the compile check compares
the first step only (bf16 runs drift apart chaotically after a few steps).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from gpu_suite import Suite


def init_process_group(cuda: bool) -> None:
    """One process group for every run of the suite: NCCL on a GPU (world size 1), gloo on a CPU. fit()
    uses a group that is already there (DeepSpeed keeps what it derives from it for the process's life)."""
    import torch.distributed as dist

    if dist.is_initialized():
        return
    os.environ["LOCAL_RANK"] = "0"  # DeepSpeed reads it whatever set the group up
    if cuda:
        torch.cuda.set_device(0)
    dist.init_process_group("nccl" if cuda else "gloo", store=dist.HashStore(), rank=0, world_size=1)


def run_config(suite: Suite, name: str, *, steps: int, batch: int, log_every: int, model: str) -> Any:
    from rs_clip_train import DataConfig, DataSource, preset

    cfg = preset("vit-b-32" if suite.cuda else "tiny")
    cfg.model.name = model
    cfg.data = DataConfig(sources=[DataSource(str(suite.data))], loader_workers=suite.loader_workers,
                          prefetch_factor=4, gpu_decode=suite.gpu_decode())
    cfg.optim.batch_size, cfg.optim.warmup_steps = batch, max(1, steps // 10)
    if suite.cuda:
        cfg.optim.lr = 2e-4  # from scratch, a few hundred steps: the preset's fine-tuning lr learns too slowly
    cfg.steps, cfg.log_every, cfg.checkpoint_every, cfg.keep = steps, log_every, steps, 2
    cfg.launcher, cfg.seed, cfg.out = "none", 0, str(suite.work / "runs" / name)
    return cfg.validate()


def metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines() if line]


def losses(run_dir: str | Path) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in metrics(run_dir) if "loss" in r}


def rel_diff(a: dict[int, float], b: dict[int, float]) -> float:
    if a.keys() != b.keys() or not a:
        return math.inf
    return max(abs(a[k] - b[k]) / max(abs(b[k]), 1e-6) for k in a)


def tolerance(suite: Suite) -> float:
    return 2e-2 if suite.cuda else 1e-4


def bare_open_clip(checkpoint: Path) -> tuple[torch.nn.Module, Any, Any]:
    """The checkpoint as open_clip alone reads it (its own config file: no rs-clip code involved)."""
    import open_clip

    model, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{checkpoint}")
    return model.eval(), preprocess, open_clip.get_tokenizer(f"local-dir:{checkpoint}")


def stored_weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    from rs_formats.checkpoint import WEIGHTS

    return load_file(str(Path(checkpoint) / WEIGHTS))


def max_weight_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    if a.keys() != b.keys():
        return math.inf
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


def zero_shot(suite: Suite, model: torch.nn.Module, preprocess: Any, tokenizer: Any) -> float:
    """Accuracy of picking each test image's caption among all distinct captions (chance: 1/40)."""
    from rs_formats import open_dataset
    from rs_formats.columns import captions_of
    from rs_formats.embed import encode_images, encode_texts
    from rs_formats.models import autocast

    ds = open_dataset(suite.data)
    texts, owner = captions_of(ds, "test")
    classes = sorted(set(texts))
    truth = torch.tensor([classes.index(t) for t in texts])[torch.from_numpy(owner).argsort()]
    model = model.to(suite.device)
    precision = "amp_bf16" if suite.cuda else "fp32"
    with autocast(suite.device, precision):
        img = encode_images(model, preprocess, ds, "test", device=suite.device, progress=False,
                            num_workers=suite.loader_workers, decode_on_device=None if suite.gpu_decode() else False)
        txt = encode_texts(model, tokenizer, classes, device=suite.device)
    pred = torch.from_numpy(img @ txt.T).argmax(1)
    return round(float((pred == truth).float().mean()), 4)


class SyncWatch:
    """A step callback that watches the step loop's thread between two logged steps (a logged step syncs
    on purpose, to read the loss): CUDA's sync debugging makes implicit synchronisations warn (a ``.item()``,
    a pageable copy), and ``torch.cuda.synchronize``, which sync debugging does not report (DeepSpeed's
    throughput timer calls it), is wrapped. Each one is kept with its full path and callers."""

    def __init__(self, cuda: bool, log_every: int):
        self.cuda, self.first, self.last = cuda, log_every, 2 * log_every - 1
        self.active = False
        self.found: list[str] = []
        self.stacks: dict[str, str] = {}
        self._synchronize = torch.cuda.synchronize

    def __call__(self, step: int, rank: int, record: Any) -> None:
        if self.cuda and step == self.first:
            self.active = True
            torch.cuda.set_sync_debug_mode("warn")
            torch.cuda.synchronize = self._explicit
        elif self.cuda and step == self.last:
            torch.cuda.set_sync_debug_mode("default")
            torch.cuda.synchronize = self._synchronize
            self.active = False

    def close(self) -> None:
        torch.cuda.synchronize = self._synchronize
        if self.active and self.cuda:
            torch.cuda.set_sync_debug_mode("default")
        self.active = False

    def _explicit(self, *args: Any, **kwargs: Any) -> None:
        self.note("torch.cuda.synchronize")
        self._synchronize(*args, **kwargs)

    def warning(self, message: Any, category: Any, filename: str, lineno: int, *_: Any, **__: Any) -> None:
        """A ``warnings.showwarning``: implicit synchronisations, as sync debugging reports them."""
        if "synchroniz" in str(message):
            self.note(f"{filename}:{lineno}")

    def note(self, where: str) -> None:
        # Only the step loop's thread: the thread that prepares batches ahead runs on its own stream.
        if not self.active or threading.current_thread() is not threading.main_thread():
            return
        # Without this method and the hook that called it (``_explicit`` or ``warning``).
        frames = [f for f in traceback.extract_stack()[:-2] if not f.filename.endswith("warnings.py")]
        if where == "torch.cuda.synchronize" and frames:
            where = f"torch.cuda.synchronize from {frames[-1].filename}:{frames[-1].lineno}"
        self.found.append(where)
        # The callers too (innermost first): a line in a library says little without them.
        self.stacks.setdefault(where, " < ".join(f"{f.filename}:{f.lineno} ({f.name})" for f in frames[::-1][:8]))

    def summary(self) -> dict[str, Any]:
        return {w: {"count": self.found.count(w), "stack": self.stacks[w]} for w in sorted(set(self.found))[:8]}


def part_decode(suite: Suite) -> dict[str, Any]:
    """Rows decoded on the device (nvjpeg on a GPU) against PIL, for evaluation's preprocessing and for
    training's augmentation. If this part fails, the other parts decode on the CPU (and say so)."""
    import open_clip

    from rs_clip_train.augment import AugParams, augment, augment_on_device, decode
    from rs_formats import open_dataset
    from rs_formats.device_decode import decode_jpegs, device_plan
    from rs_formats.embed import decode_image

    rows = open_dataset(suite.data).read_row_group("test", 0, ["image_id", "image"]).to_pylist()[:64]
    datas = [r["image"] for r in rows]
    decoded = decode_jpegs(datas, suite.device)
    preprocess = open_clip.image_transform(224, is_train=False)
    plan = device_plan(preprocess)
    got = plan(decoded).cpu()
    want = torch.stack([preprocess(decode_image(d)) for d in datas])
    eval_levels = ((got - want) * torch.tensor(plan.std).view(1, 3, 1, 1) * 255).abs()
    params = [AugParams((0.05, 0.1, 0.9 + 0.001 * i, 0.95), i % 2 == 0, i % 4) for i in range(len(rows))]
    got_t = torch.stack([augment_on_device(img, p, 224) for img, p in zip(decoded, params)]).cpu()
    want_t = torch.stack([torch.from_numpy(augment(decode(r["image"], r["image_id"], 224), p, 224)).permute(2, 0, 1)
                          for r, p in zip(rows, params)])
    train_levels = (got_t.int() - want_t.int()).abs().float()
    loader_levels = _loader_levels(suite)
    checks = {}
    for name, levels in (("eval_preprocess", eval_levels), ("train_augment", train_levels),
                         ("train_loader", loader_levels)):
        checks.update(agreement(name, levels))
    suite.shared["gpu_decode"] = all(c["ok"] for c in checks.values())
    return {"rows": len(rows), "device": str(suite.device), "checks": checks}


#: Agreement of two JPEG decoders, in grey levels (0-255) over every channel of every pixel. nvjpeg and
#: libjpeg-turbo (PIL) differ in their IDCT and chroma upsampling: most values within a level or two, pixels
#: on the sharp colour edges of the scenes' squares up to ~60 levels (measured, H200, run 1: mean 0.6, max
#: 50-60). A real fault moves the means: a pixel of shift, swapped channels or another resize filter every
#: image's, a wrong crop or a garbled image that image's; the maximum alone tells nothing. The share of
#: far-off values is a loose bound on anything local.
MEAN_LEVELS, IMAGE_MEAN_LEVELS, FAR_LEVELS, FAR_SHARE = 1.0, 2.0, 32, 1e-2


def agreement(name: str, levels: torch.Tensor) -> dict[str, Any]:
    """Checks of absolute level differences (one image per row of ``levels``) between two decoders: the
    mean, the worst image's mean, and the share of values off by more than ``FAR_LEVELS``; the 99.9th
    percentile and the maximum are recorded beside them."""
    flat = levels.flatten().float()
    mean, far = float(flat.mean()), float((flat > FAR_LEVELS).float().mean())
    worst = float(levels.flatten(1).float().mean(1).max())
    top = flat.sort().values
    return {f"{name}_mean_levels": {"value": round(mean, 3), "target": f"< {MEAN_LEVELS}", "ok": mean < MEAN_LEVELS},
            f"{name}_worst_image_mean_levels": {"value": round(worst, 3), "target": f"< {IMAGE_MEAN_LEVELS}",
                                                "ok": worst < IMAGE_MEAN_LEVELS},
            f"{name}_share_over_{FAR_LEVELS}_levels": {
                "value": round(far, 6), "target": f"<= {FAR_SHARE}", "ok": far <= FAR_SHARE,
                "p99_9": float(top[min(len(top) - 1, int(0.999 * len(top)))]), "max": float(top[-1])}}


def _loader_levels(suite: Suite) -> torch.Tensor:
    """Grey-level differences between a training micro-batch assembled on the device
    (``Batch.on_device``) and the same micro-batch decoded in the loader."""
    import open_clip

    from rs_clip_train import DataConfig, DataSource
    from rs_clip_train.data import make_loader

    cfg = DataConfig(sources=[DataSource(str(suite.data))], loader_workers=0)
    batches = []
    for on_device in (False, True):
        loader = make_loader(cfg, micro_batch=16, image_size=224, tokenizer=open_clip.get_tokenizer("ViT-B-32"),
                             seed=0, rank=0, world=1, start_micro_step=0, pin_memory=suite.cuda,
                             jpegs_to_device=on_device)
        images, texts, _ = next(iter(loader)).on_device(suite.device, 224)
        batches.append((images.cpu(), texts.cpu()))
    (a, ta), (b, tb) = batches
    if not torch.equal(ta, tb):
        raise AssertionError("the device-decoded micro-batch holds other captions than the loader's")
    return (a.int() - b.int()).abs().float()


def part_train(suite: Suite) -> dict[str, Any]:
    from rs_clip_train import fit
    from rs_clip_train.engine import deepspeed_config
    from rs_formats.models import create_model

    p = suite.profile
    cfg = run_config(suite, "train", steps=p.train_steps, batch=p.train_batch, log_every=p.log_every,
                     model=p.model)
    watch = SyncWatch(suite.cuda, p.log_every)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = watch.warning
            final = fit(cfg, step_callback=watch, progress=False)
    finally:
        watch.close()
    curve = losses(cfg.out)
    steps = sorted(curve)
    ds = deepspeed_config(cfg, cuda=suite.cuda)
    out: dict[str, Any] = {"model": p.model, "steps": p.train_steps, "batch": p.train_batch, "loss": curve,
                           "pairs_per_s_last_log": metrics(cfg.out)[-2].get("pairs_per_s"),
                           "deepspeed": {k: ds.get(k) for k in ("torch_autocast", "bf16", "optimizer")}}
    checks: dict[str, Any] = {
        "loss_finite": {"value": all(math.isfinite(v) for v in curve.values())},
        "loss_falls": {"value": round(curve[steps[-1]] / curve[steps[0]], 3), "target": "< 0.9"},
        "backend": {"value": torch.distributed.get_backend(),
                    "target": "nccl" if suite.cuda else "gloo"},
    }
    checks["loss_finite"]["ok"] = checks["loss_finite"]["value"]
    checks["loss_falls"]["ok"] = checks["loss_falls"]["value"] < 0.9
    checks["backend"]["ok"] = checks["backend"]["value"] == checks["backend"]["target"]
    if suite.cuda:
        autocast_cfg = ds.get("torch_autocast") or {}
        checks["bf16_torch_autocast_fused_adamw"] = {
            "value": f"{autocast_cfg.get('dtype')}, fused={ds['optimizer']['params'].get('fused')}",
            "ok": autocast_cfg.get("dtype") == "bfloat16" and ds["optimizer"]["params"].get("fused") is True}
        checks["host_syncs_between_logs"] = {
            "value": len(watch.found), "target": 0, "ok": not watch.found, "where": watch.summary()}
    final = Path(final).resolve()
    bare, preprocess, tokenizer = bare_open_clip(final)
    ours, _, _ = create_model(final)
    stored = stored_weights(final)
    checks["bare_open_clip_same_weights"] = {
        "value": max(max_weight_diff(bare.state_dict(), stored), max_weight_diff(ours.state_dict(), stored)),
        "target": 0.0}
    checks["bare_open_clip_same_weights"]["ok"] = checks["bare_open_clip_same_weights"]["value"] == 0.0
    trained = zero_shot(suite, bare, preprocess, tokenizer)
    torch.manual_seed(0)
    init, _, _ = create_model(p.model)
    before = zero_shot(suite, init, preprocess, tokenizer)
    checks["zero_shot_trained_vs_init"] = {"value": trained, "init": before, "chance": 1 / 40,
                                           "ok": trained > before + 0.1 or not suite.cuda}
    suite.shared["train_final"] = final
    return {**out, "checks": checks}


def part_zero(suite: Suite) -> dict[str, Any]:
    from rs_clip_train import fit

    p = suite.profile
    curves, weights, checks = {}, {}, {}
    for stage in (0, 1, 2, 3):
        cfg = run_config(suite, f"zero{stage}", steps=p.zero_steps, batch=p.zero_batch, log_every=1, model=p.model)
        cfg.engine.zero_stage = stage
        final = Path(fit(cfg, progress=False)).resolve()
        curves[stage] = losses(cfg.out)
        bare, _, _ = bare_open_clip(final)
        weights[stage] = bare.state_dict()
        checks[f"stage{stage}_bare_open_clip_loads"] = {
            "value": max_weight_diff(weights[stage], stored_weights(final)), "target": 0.0}
        checks[f"stage{stage}_bare_open_clip_loads"]["ok"] = checks[f"stage{stage}_bare_open_clip_loads"]["value"] == 0
        if stage:
            diff = rel_diff(curves[stage], curves[0])
            checks[f"stage{stage}_loss_vs_stage0"] = {"value": diff, "target": tolerance(suite),
                                                     "ok": diff <= tolerance(suite)}
            checks[f"stage{stage}_weights_vs_stage0"] = {"value": max_weight_diff(weights[stage], weights[0])}
    suite.shared["zero0_curve"] = curves[0]
    return {"steps": p.zero_steps, "batch": p.zero_batch, "loss": {str(k): v for k, v in curves.items()},
            "checks": checks}


def _wait_for_checkpoint(proc: subprocess.Popen, run_dir: Path, every: int, timeout: float) -> int | None:
    """The step at which ``proc`` was killed: after its first checkpoint, before its second."""
    from rs_clip_train.run_dir import latest_checkpoint

    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if latest_checkpoint(run_dir) is not None and (run_dir / "metrics.jsonl").exists():
            done = max((r["step"] for r in metrics(run_dir)), default=0)
            if done > every:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return done
        time.sleep(0.05)
    return None


def part_resume(suite: Suite) -> dict[str, Any]:
    """A run killed after a checkpoint and run again, against an uninterrupted run of the same config
    file, step by step. fp32 even on a GPU: what resuming restores (weights, optimizer and schedule, the
    data position) does not depend on the precision, and fp32 steps repeat to ~1e-6 where bf16 ones
    differ by ~0.5 % (run 1's ZeRO stages), as much as the loss differs between two neighbouring
    batches; so a skipped or repeated batch shows here. Steps before the kill are compared too: a
    difference there is between the two runs' settings, not in resuming."""
    from rs_clip_train import TrainConfig, fit

    p = suite.profile
    cfg = run_config(suite, "resume", steps=p.resume_steps, batch=p.zero_batch, log_every=1, model=p.model)
    cfg.checkpoint_every, cfg.engine.precision = p.resume_every, "fp32"
    if suite.cuda:
        # Gentler than the train part's lr: no loss spikes whose timing rounding would decide (run 1, bf16 at
        # 2e-4: losses 77 % apart at one step while the final weights agreed to 0.003).
        cfg.optim.lr = 2e-5
    cfg.data.loader_workers = 1  # slower steps: the kill lands between two checkpoints
    run_dir = Path(cfg.out)
    run_dir.mkdir(parents=True)
    config = run_dir.parent / "resume.yaml"
    config.write_text(cfg.to_yaml())
    command = [sys.executable, "-m", "rs_clip_train", "fit", "--config", str(config), "--launcher", "none",
               "--no-progress", "-q"]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
    log = open(run_dir.parent / "resume.log", "w")  # noqa: SIM115 - both runs append to it
    first = subprocess.Popen(command, stdout=log, stderr=log, env=env, start_new_session=True)
    killed_at = _wait_for_checkpoint(first, run_dir, p.resume_every, timeout=300)
    if killed_at is None:
        first.kill()
    before = losses(run_dir)  # the interrupted attempt's steps, the resumed run drops those after the checkpoint
    second = subprocess.run(command, stdout=log, stderr=log, env=env, timeout=300)
    log.close()
    reference = TrainConfig.from_yaml(config.read_text(), str(config))  # the very same settings
    reference.out = str(suite.work / "runs" / "resume-reference")
    fit(reference, progress=False)
    starts = [r["step"] for r in metrics(run_dir) if r.get("event") == "start"]
    resumed, uninterrupted = losses(run_dir), losses(reference.out)
    cut = p.resume_every
    after = {k: v for k, v in resumed.items() if k > cut}
    weights = max_weight_diff(stored_weights((run_dir / "final").resolve()),
                              stored_weights((Path(reference.out) / "final").resolve()))
    tol = 1e-3 if suite.cuda else 1e-4
    pre = rel_diff({k: v for k, v in before.items() if k <= cut}, {k: v for k, v in uninterrupted.items() if k <= cut})
    post = rel_diff(after, {k: v for k, v in uninterrupted.items() if k > cut})
    checks = {
        "killed_between_checkpoints": {"value": killed_at, "ok": killed_at is not None},
        "rerun_exit_status": {"value": second.returncode, "ok": second.returncode == 0},
        "resumed_from": {"value": starts, "target": [0, cut], "ok": starts == [0, cut]},
        "loss_before_kill_vs_uninterrupted": {"value": pre, "target": tol, "ok": pre <= tol},
        "loss_after_resume_vs_uninterrupted": {"value": post, "target": tol, "ok": post <= tol,
                                               "best_batch_offset": best_offset(after, uninterrupted)},
        "weights_vs_uninterrupted": {"value": weights},
    }
    if second.returncode != 0:
        checks["rerun_exit_status"]["log_tail"] = (run_dir.parent / "resume.log").read_text()[-2000:]
    return {"steps": p.resume_steps, "checkpoint_every": cut, "precision": "fp32",
            "loss": {"interrupted": before, "resumed": resumed, "uninterrupted": uninterrupted},
            "checks": checks}


def best_offset(after: dict[int, float], reference: dict[int, float]) -> int | None:
    """Which shift of the reference's steps (-1, 0, +1) the resumed losses match best: 0 unless a batch
    was skipped (+1) or repeated (-1) when resuming."""
    errors = {}
    for shift in (-1, 0, 1):
        pairs = [(v, reference[k + shift]) for k, v in after.items() if k + shift in reference]
        if pairs:
            errors[shift] = sum(abs(a - b) for a, b in pairs) / len(pairs)
    return min(errors, key=errors.get) if errors else None


def part_compile(suite: Suite) -> dict[str, Any]:
    """One step eager and one with ``--compile`` from the same initial weights, at the compiled speed
    part's batch (its graphs are in inductor's cache by then): the first step's loss (the forward pass)
    and the update that step made (backward and optimizer) agree. Only one step: in bf16, runs that
    round differently drift apart chaotically after a few steps (run 1: step 1 6.95395 against 6.95400,
    3 % apart by step 6), which says nothing about the compiled graph."""
    from rs_clip_train import fit
    from rs_clip_train.model import build_model

    p = suite.profile
    batch = p.compiled_batch or p.speed_batch
    runs = {}
    for compiled in (False, True):
        cfg = run_config(suite, f"compile-{compiled}", steps=1, batch=batch, log_every=1, model=p.model)
        cfg.model.compile = compiled
        final = Path(fit(cfg, progress=False)).resolve()
        runs[compiled] = (losses(cfg.out), stored_weights(final))
    torch.manual_seed(cfg.seed)  # the Trainer's initial weights, made as it makes them
    start = build_model(cfg.model).model.state_dict()
    (eager_loss, eager), (compiled_loss, compiled) = runs[False], runs[True]
    keys = [k for k in start if k in eager and k in compiled and start[k].shape == eager[k].shape]
    moved = {name: torch.cat([(w[k].float() - start[k].float()).flatten() for k in keys])
             for name, w in (("eager", eager), ("compiled", compiled))}
    # Adam's first step moves every weight by about lr (plus decay): much more means other start weights.
    biggest = max(float(d.abs().max()) for d in moved.values()) / cfg.optim.lr
    agree = float(torch.nn.functional.cosine_similarity(moved["eager"], moved["compiled"], dim=0))
    diff = rel_diff(compiled_loss, eager_loss)
    return {"batch": batch, "loss": {"eager": eager_loss, "compiled": compiled_loss},
            "checks": {"first_loss_compiled_vs_eager": {"value": diff, "target": tolerance(suite),
                                                        "ok": diff <= tolerance(suite)},
                       "first_update_in_lr_units": {"value": round(biggest, 3), "target": "<= 2",
                                                    "ok": 0 < biggest <= 2},
                       "first_update_cosine_compiled_vs_eager": {"value": round(agree, 5), "target": ">= 0.9",
                                                                 "ok": agree >= 0.9}}}
