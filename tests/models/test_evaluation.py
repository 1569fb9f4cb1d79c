"""Canary exposure (The Secret Sharer) and classification metrics (models/evaluation.py)."""

import random

from waterworks.models.evaluation import canary_exposure, classification_metrics, shaped_like

PREFIX, SECRET = "Please call me back on ", "13907215546"


def test_candidates_keep_the_secret_shape():
    rng = random.Random(0)
    candidate = shaped_like("13907215546 AB-12", rng)
    assert len(candidate) == 17 and candidate[0] == "1" and candidate[11:14] in {candidate[11:14]}
    assert candidate[:11].isdigit() and candidate[12:14].isupper() and candidate[14] == "-"


def test_a_memorised_canary_is_exposed_and_an_unseen_one_is_not(tmp_path):
    """A tiny LM trained on a corpus where the canary repeats ranks it first among 999 candidates (exposure near
    the maximum, ~10 bits); a canary it never saw ranks anywhere (low exposure)."""
    from waterworks.models.causal_lm import load_base
    from waterworks.models.recipes.pretrain import PretrainConfig, run
    from waterworks.models.runtime import pick_runtime

    filler = ["The transfer is pending.", "Your card ships soon.", "Top-ups take a day."]
    texts = [f"{filler[i % 3]} {PREFIX}{SECRET}, that is my new number." for i in range(40)]
    run(PretrainConfig(size="tiny", vocab_size=300, seq_len=64, batch_size=8, epochs=20, lr=5e-3, device="cpu"),
        texts, [], tmp_path, log=lambda _: None)
    runtime = pick_runtime("cpu")
    model, tokenizer = load_base(tmp_path, runtime)
    seen = canary_exposure(model, tokenizer, "seen", PREFIX, SECRET, 40, runtime, candidates=999)
    unseen = canary_exposure(model, tokenizer, "unseen", PREFIX, "18826419073", 0, runtime, candidates=999)
    assert seen.rank == 1 and seen.exposure > 9.5, seen
    assert unseen.exposure < seen.exposure - 3, unseen
    assert seen.as_dict()["max_exposure_bits"] == round(seen.max_exposure, 3)
    assert SECRET not in str(seen.as_dict())
    # above the threshold, a second measure against fresh candidates confirms a memorized canary; a canary
    # that ranked high by chance would not rank high again (the lower exposure counts)
    from waterworks.assets.training.config import EvaluationPlan
    from waterworks.assets.training.evaluate import Canary, confirmed_exposure

    plan = EvaluationPlan(canary_candidates=999, max_exposure_bits=9.0)
    confirmed = confirmed_exposure(model, tokenizer, Canary("seen", SECRET, PREFIX, 40), plan, runtime)
    assert confirmed["exposure_bits"] > 9.0 and confirmed["confirmation_exposure_bits"] > 9.0
    strict = EvaluationPlan(canary_candidates=999, max_exposure_bits=-1.0)  # every canary "above": measured twice
    unseen_twice = confirmed_exposure(model, tokenizer, Canary("unseen", "18826419073", PREFIX, 0), strict, runtime)
    assert unseen_twice["exposure_bits"] == min(unseen_twice["first_exposure_bits"],
                                                unseen_twice["confirmation_exposure_bits"])


def test_an_exposure_the_base_model_already_has_is_not_counted_against_the_fine_tuned_one(tmp_path):
    """Calibration against the model fine-tuning started from: a secret the reference already ranks first (here
    the reference is the memorizing model itself) adds no bits; against a reference that never saw it (a model
    trained on the filler alone) the memorized secret keeps nearly all of its bits."""
    from waterworks.assets.training.config import EvaluationPlan
    from waterworks.assets.training.evaluate import Canary, calibrated_exposure, confirmed_exposure
    from waterworks.models.causal_lm import load_base
    from waterworks.models.recipes.pretrain import PretrainConfig, run
    from waterworks.models.runtime import pick_runtime

    filler = ["The transfer is pending.", "Your card ships soon.", "Top-ups take a day."]
    config = PretrainConfig(size="tiny", vocab_size=300, seq_len=64, batch_size=8, epochs=20, lr=5e-3, device="cpu")
    run(config, [f"{filler[i % 3]} {PREFIX}{SECRET}, that is my new number." for i in range(40)], [],
        tmp_path / "memorized", log=lambda _: None)
    run(config, [f"{filler[i % 3]} {PREFIX}later, that is my new number." for i in range(40)], [],
        tmp_path / "unseen", log=lambda _: None)
    runtime = pick_runtime("cpu")
    plan = EvaluationPlan(canary_candidates=999, max_exposure_bits=9.0)
    canary = Canary("seen", SECRET, PREFIX, 40, "chat")
    model, tokenizer = load_base(tmp_path / "memorized", runtime)
    exposures = [confirmed_exposure(model, tokenizer, canary, plan, runtime)]
    assert exposures[0]["exposure_bits"] > 9.0
    inherited, = calibrated_exposure(exposures, [canary], tmp_path / "memorized", plan, runtime)
    assert inherited["exposure_bits"] < 1.0 and inherited["raw_exposure_bits"] > 9.0
    assert inherited["reference_exposure_bits"] > 9.0
    learned, = calibrated_exposure(exposures, [canary], tmp_path / "unseen", plan, runtime)
    assert learned == exposures[0]


def test_classification_metrics():
    metrics = classification_metrics([0, 0, 1, 1, 2], [0, 1, 1, 1, 2])
    assert metrics["accuracy"] == 0.8
    assert abs(metrics["macro_f1"] - (2 / 3 + 0.8 + 1) / 3) < 1e-9
