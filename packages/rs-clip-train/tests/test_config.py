import dataclasses
import logging
import re
import types
import typing
from pathlib import Path

import pytest
import yaml

from rs_clip_train import ConfigError, DataSource, TrainConfig, load_config, preset
from rs_clip_train.cli import build_parser, main, resolve_args
from rs_clip_train.settings import flag_of, leaves


def test_paper_presets():
    got = {
        name: (
            preset(name).model.name,
            preset(name).optim.lr,
            preset(name).optim.batch_size,
            preset(name).steps,
        )
        for name in ("rn50", "vit-b-32", "vit-l-14")
    }
    assert got == {
        "rn50": ("RN50-quickgelu", 7e-5, 256, 108_215),
        "vit-b-32": ("ViT-B-32-quickgelu", 4e-5, 256, 108_215),
        "vit-l-14": ("ViT-L-14-quickgelu", 1e-4, 28, 108_215),
    }
    assert preset("vit-l-14").model.grad_checkpointing
    assert (preset("tiny").model.name, preset("tiny").steps) == ("RS-Tiny", None)
    assert TrainConfig() == preset("vit-b-32")  # the defaults are vit-b-32's


def test_presets_and_config_show_the_activation_and_the_paper_length(capsys):
    assert main(["presets"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["vit-b-32"][1:3] == ["ViT-B-32-quickgelu", "QuickGELU"] and rows["vit-b-32"][-1] == "108,215"
    assert rows["rn50"][2] == rows["vit-l-14"][2] == "QuickGELU" and rows["tiny"][-2:] == ["1", "epoch"]
    assert main(["config", "--preset", "vit-b-32"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert (shown["model"]["name"], shown["steps"], shown["epochs"]) == ("ViT-B-32-quickgelu", 108_215, None)


def test_a_layer_giving_epochs_clears_the_presets_steps(tmp_path: Path):
    p = tmp_path / "run.yaml"
    p.write_text(yaml.safe_dump({"preset": "vit-b-32", "epochs": 2}))
    cfg = load_config(p)
    assert (cfg.steps, cfg.epochs) == (None, 2.0)
    cfg = resolve_args(build_parser().parse_args(["fit", "--preset", "rn50", "--epochs", "3"]))
    assert (cfg.steps, cfg.epochs) == (None, 3.0)


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown preset 'vit-h-99'.*tiny"):
        preset("vit-h-99")


def test_yaml_round_trip_is_exact():
    cfg = preset("vit-l-14")
    cfg.data.sources = [DataSource("/data/a", 2.0), DataSource("/data/b")]
    cfg.steps, cfg.engine.zero_stage, cfg.data.crop_scale = 1000, 2, (0.5, 1.0)
    back = TrainConfig.from_yaml(cfg.to_yaml())
    assert back == cfg
    assert isinstance(back.data.crop_scale, tuple) and isinstance(back.data.sources[0], DataSource)


def test_splits_per_dataset_from_flags_and_yaml(tmp_path: Path):
    parse = DataSource.parse
    assert parse("/d/dior") == DataSource("/d/dior", 1.0, None)
    assert parse("/d/dior:2") == DataSource("/d/dior", 2.0, None)
    assert parse("/d/dior@train,val,test") == DataSource("/d/dior", 1.0, "train,val,test")
    assert parse("/d/dior@train,val:0.5") == DataSource("/d/dior", 0.5, "train,val")
    assert parse("/d/a@b/c") == DataSource("/d/a@b/c", 1.0, None)  # an @ inside the path is the path's
    cfg = resolve_args(
        build_parser().parse_args(
            ["fit", "--data", "/d/all", "--data", "/d/rsicd@train,val:2", "--split", "train,val,test"]
        )
    )
    assert [cfg.data.splits_of(s) for s in cfg.data.sources] == [["train", "val", "test"], ["train", "val"]]
    assert TrainConfig.from_yaml(cfg.to_yaml()) == cfg
    p = tmp_path / "run.yaml"
    p.write_text(
        yaml.safe_dump({"data": {"split": "train", "sources": [{"path": "/d/x", "split": "val,test"}]}})
    )
    assert load_config(p).data.splits_of(load_config(p).data.sources[0]) == ["val", "test"]
    for bad, why in (("train,,val", "empty split name"), ("train,train", "train given twice")):
        cfg.data.split = bad
        with pytest.raises(ConfigError, match=why):
            cfg.validate()


def test_partial_yaml_sits_on_its_preset(tmp_path: Path):
    p = tmp_path / "run.yaml"
    p.write_text(yaml.safe_dump({"preset": "rn50", "optim": {"lr": 1e-4}, "steps": 50}))
    cfg = load_config(p)
    assert (cfg.model.name, cfg.optim.lr, cfg.optim.batch_size, cfg.steps) == (
        "RN50-quickgelu",
        1e-4,
        256,
        50,
    )


def test_bad_yaml_keys_types_and_choices_name_the_file_and_setting(tmp_path: Path):
    p = tmp_path / "run.yaml"
    p.write_text(yaml.safe_dump({"optim": {"learning_rate": 1}}))
    with pytest.raises(ConfigError, match=rf"{p}: optim.unknown setting\(s\) optim.learning_rate"):
        load_config(p)
    p.write_text(yaml.safe_dump({"optim": {"batch_size": "big"}}))
    with pytest.raises(ConfigError, match=rf"{p}: optim.batch_size: expected int"):
        load_config(p)
    p.write_text(yaml.safe_dump({"engine": {"precision": "fp8"}}))
    with pytest.raises(ConfigError, match=rf"{p}: engine.precision must be one of auto, fp32, amp, "):
        load_config(p)


def test_validate_rejects_uneven_micro_batches():
    cfg = preset("tiny")
    cfg.data.sources = [DataSource("x")]
    cfg.workers, cfg.optim.batch_size = 3, 64
    with pytest.raises(ConfigError, match="not divisible"):
        cfg.validate()
    cfg.workers = 2
    assert cfg.validate().micro_batch() == 32


# -- flags: generated from the dataclass fields ---------------------------------------------------------


def _other_value(f: dataclasses.Field, tp, default):
    """A value of type ``tp`` different from ``default`` (within the field's choices)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    choices = f.metadata.get("choices")
    if choices is not None:
        return next(c for c in (choices() if callable(choices) else choices) if c != default)
    origin = typing.get_origin(tp)
    if tp is bool:
        return not default
    if tp is int:
        return (default or 0) + 3
    if tp is float:
        return (default or 0.0) + 0.25
    if tp is str:
        return f"{f.name}-value"
    if origin is tuple:
        return tuple(v / 2 for v in default)
    if origin is list:
        return [DataSource("/d/a", 2.5), DataSource("/d/b", 1.0)]
    raise AssertionError(f"no test value for setting {f.name} of type {tp}")


def _words(flag: str, value, comma: bool) -> list[str]:
    if isinstance(value, bool):
        return [flag if value else "--no-" + flag[2:]]
    if isinstance(value, tuple):
        return [flag, ",".join(map(str, value))] if comma else [flag, *map(str, value)]
    if isinstance(value, list):
        return [w for s in value for w in (flag, f"{s.path}:{s.weight}")]
    return [flag, str(value)]


def _get(cfg, dotted: str):
    for part in dotted.split("."):
        cfg = getattr(cfg, part)
    return cfg


def _fit_flags(capsys) -> set[str]:
    """The flags ``rs-clip-train fit --help`` shows."""
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    listed = [
        re.split(r"\s{2,}", line.strip())[0]
        for line in capsys.readouterr().out.splitlines()
        if re.match(r"\s+-", line)
    ]
    return {part.split()[0] for entry in listed for part in entry.split(", ")}


@pytest.mark.parametrize("comma", [False, True])
def test_every_setting_has_a_flag_that_round_trips(comma: bool, capsys):
    shown = _fit_flags(capsys)
    settings = leaves(TrainConfig)
    names = {name for name, _, _ in settings}
    # A new setting is picked up without editing this test; these six once had no flag.
    assert {
        "data.crop_scale",
        "optim.betas",
        "optim.eps",
        "optim.min_lr_ratio",
        "data.prefetch_factor",
        "data.shuffle_window",
    } <= names
    parser = build_parser()
    for name, f, tp in settings:
        default = _get(TrainConfig(), name)
        value = _other_value(f, tp, default)
        flag = flag_of(name, f)
        assert flag in shown, f"{name} has no flag"
        assert f.metadata["help"], f"{name} has no help text"
        cfg = resolve_args(parser.parse_args(["fit", *_words(flag, value, comma)]))
        assert _get(cfg, name) == value, (name, flag)
        assert type(_get(cfg, name)) is type(value), name
    # ...and fit has no flag that is not a setting, besides the console's, --config and help.
    of_settings = {flag_of(n, f) for n, f, _ in settings}
    of_settings |= {"--no-" + flag_of(n, f)[2:] for n, f, tp in settings if tp is bool}
    assert shown - of_settings == {
        "-h",
        "--help",
        "-v",
        "--verbose",
        "-q",
        "--quiet",
        "--no-progress",
        "--config",
    }


def test_help_shows_every_settings_help_and_default(capsys):
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for heading in (
        "run:",
        "model:",
        "data:",
        "optimisation:",
        "engine:",
        "launcher and cluster:",
        "checkpoints and logs:",
    ):
        assert heading in out
    assert "--crop-scale MIN MAX random-resized-crop area range" in out
    assert "(default: 0.9 1.0)" in out and "--betas BETA1 BETA2 AdamW betas (default: 0.9 0.98)" in out
    assert "--hflip, --no-hflip random horizontal flips (default: on)" in out
    assert "--steps N | --epochs X" in out and "--num-workers" not in out and "amp_fp16" not in out


def test_precedence_preset_then_config_then_flags(tmp_path: Path):
    p = tmp_path / "run.yaml"
    p.write_text(
        yaml.safe_dump(
            {
                "preset": "tiny",
                "optim": {"lr": 0.5, "batch_size": 32},
                "epochs": 3.0,
                "data": {"crop_scale": [0.5, 1.0]},
            }
        )
    )
    args = build_parser().parse_args(
        [
            "fit",
            "--config",
            str(p),
            "--data",
            "/d/a:3",
            "--data",
            "/d/b",
            "--steps",
            "7",
            "--zero-stage",
            "2",
            "--no-rotate90",
            "--lr",
            "0.25",
            "--out",
            "r",
        ]
    )
    cfg = resolve_args(args)
    tiny = preset("tiny")
    assert (cfg.model.name, cfg.optim.warmup_steps) == (tiny.model.name, tiny.optim.warmup_steps)  # preset
    assert cfg.optim.batch_size == 32 and cfg.data.crop_scale == (0.5, 1.0)  # config over preset
    assert cfg.optim.lr == 0.25 and cfg.steps == 7 and cfg.epochs is None  # flags over config
    assert cfg.data.sources == [DataSource("/d/a", 3.0), DataSource("/d/b", 1.0)]
    assert cfg.engine.zero_stage == 2 and cfg.data.rotate90 is False
    # --preset replaces the file's preset under the file's settings.
    cfg = resolve_args(build_parser().parse_args(["config", "--config", str(p), "--preset", "rn50"]))
    assert (cfg.preset, cfg.model.name, cfg.optim.lr, cfg.optim.batch_size) == (
        "rn50",
        "RN50-quickgelu",
        0.5,
        32,
    )


def test_steps_and_epochs_are_mutually_exclusive(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["fit", "--steps", "3", "--epochs", "2"])
    assert exc.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_bad_tuples_are_usage_errors(capsys):
    for words in (["0.5"], ["0.5", "0.6", "0.7"], ["a,b"]):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args(["fit", "--crop-scale", *words])
        assert exc.value.code == 2 and "argument --crop-scale: expected" in capsys.readouterr().err


def test_deprecated_spellings_warn_and_work(capsys, caplog, tmp_path: Path):
    cfg = resolve_args(build_parser().parse_args(["config", "--num-workers", "3", "--precision", "amp_fp16"]))
    assert cfg.workers == 3 and cfg.engine.precision == "amp"
    err = capsys.readouterr().err
    assert "--num-workers is deprecated" in err and "use --workers" in err
    assert "'amp_fp16' is deprecated" in caplog.text and "use 'amp'" in caplog.text

    caplog.clear()
    p = tmp_path / "run.yaml"
    p.write_text(yaml.safe_dump({"num_workers": 2, "engine": {"precision": "amp_fp16"}}))
    with caplog.at_level(logging.WARNING):
        cfg = load_config(p)
    assert cfg.workers == 2 and cfg.engine.precision == "amp"
    assert f"{p}: num_workers is deprecated and will be removed; use workers" in caplog.text
    assert TrainConfig.from_dict({"num_workers": 4}).workers == 4  # old run.yaml / manifest config
    p.write_text(yaml.safe_dump({"num_workers": 2, "workers": 2}))
    with pytest.raises(ConfigError, match="both num_workers and its new name workers are set"):
        load_config(p)


def test_config_command_prints_loadable_yaml(capsys, tmp_path: Path):
    assert main(["config", "--preset", "vit-b-32", "--data", "/d", "--epochs", "2"]) == 0
    p = tmp_path / "run.yaml"
    p.write_text(capsys.readouterr().out)
    cfg = load_config(p)
    assert cfg.epochs == 2.0 and cfg.steps is None and cfg.model.name == "ViT-B-32-quickgelu"


def test_presets_command_and_version(capsys):
    assert main(["presets"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert [r.split()[0] for r in rows[1:]] == ["rn50", "vit-b-32", "vit-l-14", "tiny"]
    assert rows[4].split()[1:5] == ["RS-Tiny", "GELU", "1e-03", "64"]
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    from importlib.metadata import version

    assert (
        exc.value.code == 0 and capsys.readouterr().out.strip() == f"rs-clip-train {version('rs-clip-train')}"
    )


def test_bad_config_files_are_one_error_naming_them(tmp_path: Path):
    import os

    from rs_formats import FormatError

    p = tmp_path / "run.yaml"
    p.write_text("optim:\n  lr: [1, 2\n")
    with pytest.raises(ConfigError, match=rf"^{p}:3: not valid YAML"):
        load_config(p)
    p.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match=rf"^{p}: YAML nested more than 64 levels deep"):
        load_config(p)
    p.write_bytes(b"optim:\n  lr: \xff\n")
    with pytest.raises(FormatError, match=rf"^{p}:2: not UTF-8 text"):
        load_config(p)
    p.unlink()
    os.mkfifo(p)  # read, it would block for ever
    with pytest.raises(FormatError, match=rf"^{p}: is a FIFO \(named pipe\), not a regular file"):
        load_config(p)


def test_every_preset_name_a_run_may_choose_has_its_settings():
    from rs_clip_train.config import PRESET_NAMES
    from rs_clip_train.presets import PRESETS, preset

    assert tuple(PRESETS) == PRESET_NAMES
    assert [preset(name).preset for name in PRESET_NAMES] == list(PRESET_NAMES)
