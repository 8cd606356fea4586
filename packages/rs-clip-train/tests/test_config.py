from pathlib import Path

import pytest
import yaml

from rs_clip_train.cli import _parser, main, resolve
from rs_clip_train.config import ConfigError, DataSource, TrainConfig, load_config, preset


def test_paper_presets():
    got = {name: (preset(name).model.name, preset(name).optim.lr, preset(name).optim.batch_size)
           for name in ("rn50", "vit-b-32", "vit-l-14")}
    assert got == {"rn50": ("RN50", 7e-5, 256), "vit-b-32": ("ViT-B-32", 4e-5, 256),
                   "vit-l-14": ("ViT-L-14", 1e-4, 28)}
    assert preset("vit-l-14").model.grad_checkpointing
    assert preset("tiny").model.name == "RS-Tiny"


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


def test_partial_yaml_sits_on_its_preset(tmp_path: Path):
    p = tmp_path / "run.yaml"
    p.write_text(yaml.safe_dump({"preset": "rn50", "optim": {"lr": 1e-4}, "steps": 50}))
    cfg = load_config(p)
    assert (cfg.model.name, cfg.optim.lr, cfg.optim.batch_size, cfg.steps) == ("RN50", 1e-4, 256, 50)


def test_bad_yaml_keys_and_types_name_the_setting(tmp_path: Path):
    p = tmp_path / "run.yaml"
    p.write_text(yaml.safe_dump({"optim": {"learning_rate": 1}}))
    with pytest.raises(ConfigError, match=r"optim: unknown setting\(s\) learning_rate"):
        load_config(p)
    p.write_text(yaml.safe_dump({"optim": {"batch_size": "big"}}))
    with pytest.raises(ConfigError, match="optim.batch_size: expected int"):
        load_config(p)


def test_validate_rejects_uneven_micro_batches():
    cfg = preset("tiny")
    cfg.data.sources = [DataSource("x")]
    cfg.num_workers, cfg.optim.batch_size = 3, 64
    with pytest.raises(ConfigError, match="not divisible"):
        cfg.validate()
    cfg.num_workers = 2
    assert cfg.validate().micro_batch() == 32


def test_cli_flags_override_preset_and_config(tmp_path: Path):
    p = tmp_path / "run.yaml"
    p.write_text(yaml.safe_dump({"preset": "tiny", "optim": {"lr": 0.5}, "epochs": 3.0}))
    args = _parser().parse_args(["fit", "--config", str(p), "--data", "/d/a:3", "--data", "/d/b",
                                 "--steps", "7", "--zero-stage", "2", "--no-rotate90", "--out", "r"])
    cfg = resolve(args)
    assert cfg.optim.lr == 0.5 and cfg.steps == 7 and cfg.epochs is None
    assert cfg.data.sources == [DataSource("/d/a", 3.0), DataSource("/d/b", 1.0)]
    assert cfg.engine.zero_stage == 2 and cfg.data.rotate90 is False and cfg.model.name == "RS-Tiny"


def test_config_command_prints_loadable_yaml(capsys, tmp_path: Path):
    assert main(["config", "--preset", "vit-b-32", "--data", "/d", "--epochs", "2"]) == 0
    p = tmp_path / "run.yaml"
    p.write_text(capsys.readouterr().out)
    cfg = load_config(p)
    assert cfg.epochs == 2.0 and cfg.model.name == "ViT-B-32"
