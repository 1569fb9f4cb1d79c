"""The training config: profiles map onto the recipes' dataclasses; mistakes fail early, naming the file."""

import pytest

from assets.training.config import TrainingConfigError, load_training_config, recipe_config


def test_shipped_profiles_build_every_recipe_config():
    from models.recipes.lora_classify import ClassifyConfig
    from models.recipes.lora_sft import LoraSftConfig
    from models.recipes.pretrain import PretrainConfig

    config = load_training_config()
    assert config.default_profile == "cpu" and {"tiny", "cpu", "gpu"} <= set(config.profiles)
    for name in config.profiles:
        profile = config.profile(name)
        recipe_config(PretrainConfig, profile.pretrain)
        recipe_config(LoraSftConfig, profile.lora_sft)
        recipe_config(ClassifyConfig, profile.classify)
    gpu = recipe_config(PretrainConfig, config.profile("gpu").pretrain)
    assert gpu.device == "cuda" and gpu.size == "base"
    assert recipe_config(PretrainConfig, config.profile("cpu").pretrain, device="cpu").device == "cpu"


def test_unknown_recipe_setting_or_profile_is_refused(tmp_path):
    bad = tmp_path / "training.yaml"
    bad.write_text("default_profile: x\nprofiles:\n  x:\n    pretrain: {sise: tiny}\n")
    with pytest.raises(TrainingConfigError, match=f"{bad}.*sise"):
        load_training_config(bad)
    bad.write_text("default_profile: y\nprofiles:\n  x: {}\n")
    with pytest.raises(TrainingConfigError, match="default_profile"):
        load_training_config(bad)
    with pytest.raises(TrainingConfigError, match="not defined"):
        load_training_config().profile("huge")
