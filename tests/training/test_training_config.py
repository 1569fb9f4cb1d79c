"""The training config: profiles map onto the recipes' dataclasses; mistakes fail early, naming the file."""

import pytest

from waterworks.assets.products import PRODUCTS
from waterworks.assets.training.config import TrainingConfigError, load_training_config


def test_shipped_profiles_build_every_products_recipe_config():
    from waterworks.models.recipes import RECIPES

    config = load_training_config()
    assert config.default_profile == "cpu" and {"tiny", "cpu", "gpu"} <= set(config.profiles)
    for name in config.profiles:
        profile = config.profile(name)
        for product in PRODUCTS:
            assert product.recipe in profile.recipes, (name, product.recipe)  # every product set per profile
            assert isinstance(profile.recipe(product.recipe), RECIPES[product.recipe])
    gpu = config.profile("gpu").recipe("pretrain")
    assert gpu.device == "cuda" and gpu.size == "base"
    assert config.profile("cpu").recipe("pretrain", device="cpu").device == "cpu"
    tiny_detector = config.profile("tiny").recipe("pii_detector")
    assert tiny_detector.network.hidden == 24 and tiny_detector.max_steps == 12  # a nested section becomes its config


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
    bad.write_text("default_profile: x\nprofiles:\n  x:\n    classify: {epochs: 1}\n")
    with pytest.raises(TrainingConfigError, match="'classify' is not a recipe"):
        load_training_config(bad)
