"""The PII detector's recipe, end to end on a user's own labelled JSONL (tiny, CPU): the folder it writes
loads, finds what it was taught, and carries a card with the data's provenance; the CLI refuses a bad file
naming it."""

import json
import subprocess
import sys
from pathlib import Path

from waterworks.governance.pii.detector_corpus import Example, read_jsonl, synthetic, write_jsonl
from waterworks.governance.pii.detector_training import train
from waterworks.models.recipes.pii_detector import DetectorConfig
from waterworks.models.token_tagger import TaggerConfig, TokenTagger

WATERWORKS = Path(sys.executable).parent / "waterworks"


def test_recipe_trains_on_user_data_alone(tmp_path):
    train_file, dev_file = tmp_path / "mine.jsonl", tmp_path / "mine_dev.jsonl"
    write_jsonl(synthetic(150, 1, "train"), train_file)
    write_jsonl(synthetic(20, 2, "dev"), dev_file)
    out = tmp_path / "detector"
    config = DetectorConfig(epochs=15, lr=5e-3, network=TaggerConfig(word_dim=32, char_filters=32, hidden=48))
    card = train(out, [train_file], [dev_file], use_corpora=False, config=config, log=lambda _: None)
    assert set(card["dev"]) == {"user:mine_dev"} and 0 < card["threshold"] < 1
    assert "user: mine.jsonl" in card["data"] and "CoNLL" not in json.dumps(card["data"])
    assert card["training"]["final_loss"] < 0.5 and card["dev"]["user:mine_dev"]["recall"] > 0.3
    tagger = TokenTagger.load(out)
    assert tagger.threshold == card["threshold"] and (out / "card.md").read_text().startswith("# ")
    # the user's names are not stored in the model's vocabulary
    names = {e.text[s:t] for e in read_jsonl(train_file) for s, t, label in e.spans if label == "PER"}
    stored = set(tagger.vocab.words)
    assert card["forms_kept_out_of_vocabulary"] > 100
    assert not any(part.lower() in stored for name in names for part in name.split() if len(part) > 3)
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert metrics[0]["loss"] > metrics[-1]["loss"]


def test_cli_refuses_a_bad_labelled_file_naming_it(tmp_path):
    bad = tmp_path / "labels.jsonl"
    bad.write_text(Example("Anna Berg called", [(0, 9, "PER")]).to_json() + "\n{not json\n", encoding="utf-8")
    result = subprocess.run([str(WATERWORKS), "train-pii-detector", "--only-user-data", "--train", str(bad),
                             "--dev", str(bad), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "labels.jsonl: line 2" in result.stdout, result.stdout + result.stderr
