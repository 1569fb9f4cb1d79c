"""The training config: profiles map onto the recipes' dataclasses; mistakes fail early, naming the file."""

import pytest

from waterworks.assets.products import PRODUCTS
from waterworks.assets.training.config import TrainingConfigError, load_training_config


def test_shipped_presets_build_every_products_recipe_config():
    from waterworks.models.recipes import RECIPES

    config = load_training_config()
    assert config.default_preset == "cpu" and {"tiny", "cpu", "gpu"} <= set(config.presets)
    for name in config.presets:
        preset = config.preset(name)
        for product in PRODUCTS:
            assert product.recipe in preset.recipes, (name, product.recipe)  # every product set per preset
            assert isinstance(preset.recipe(product.recipe), RECIPES[product.recipe])
    gpu = config.preset("gpu").recipe("pretrain")
    assert gpu.device == "cuda" and gpu.size == "base"
    assert config.preset("cpu").recipe("pretrain", device="cpu").device == "cpu"
    tiny_detector = config.preset("tiny").recipe("pii_detector")
    assert tiny_detector.network.hidden == 24 and tiny_detector.max_steps == 12  # a nested section becomes its config


def test_unknown_recipe_setting_or_preset_is_refused(tmp_path):
    bad = tmp_path / "training.yaml"
    bad.write_text("default_preset: x\npresets:\n  x:\n    pretrain: {sise: tiny}\n")
    with pytest.raises(TrainingConfigError, match=f"{bad}.*sise"):
        load_training_config(bad)
    bad.write_text("default_preset: y\npresets:\n  x: {}\n")
    with pytest.raises(TrainingConfigError, match="default_preset"):
        load_training_config(bad)
    with pytest.raises(TrainingConfigError, match="not defined"):
        load_training_config().preset("huge")
    bad.write_text("default_preset: x\npresets:\n  x:\n    classify: {epochs: 1}\n")
    with pytest.raises(TrainingConfigError, match="'classify' is not a recipe"):
        load_training_config(bad)
