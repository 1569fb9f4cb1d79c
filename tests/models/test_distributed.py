"""Data-parallel training under torchrun, on CPU over Gloo (the same code path NCCL takes on GPUs): two
processes train one model on disjoint halves of every epoch, rank 0 alone logs and saves."""

import json

from waterworks.models.distributed import World, run_recipe, shard


def test_shard_gives_each_rank_disjoint_equal_shares():
    batches = list(range(11))
    shares = [list(shard(batches, World(rank, 3), per_rank=len(batches) // 3)) for rank in range(3)]
    assert shares == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]  # 9 and 10 dropped: every rank takes 3 steps
    assert list(shard(batches, World(), per_rank=11)) == batches


def test_two_processes_train_one_model_and_rank_0_saves(tmp_path, corpus_texts):
    from transformers import AutoModelForCausalLM

    from waterworks.models.recipes.pretrain import PretrainConfig

    config = PretrainConfig(size="tiny", vocab_size=400, seq_len=64, batch_size=4, epochs=4, lr=5e-3, device="cpu")
    kwargs = {"train_texts": corpus_texts, "validation_texts": corpus_texts[:8]}
    lines: list[str] = []
    two = run_recipe("pretrain", config, {**kwargs, "out_dir": tmp_path / "two"}, processes=2, log=lines.append)

    assert two["runtime"]["processes"] == 2
    # 60 packed rows in batches of 4: 15 batches an epoch, 7 per process (one left over), one step per pair
    assert two["steps"] == 4 * 7
    params = json.loads((tmp_path / "two" / "params.json").read_text())
    assert two["tokens"] > 4 * params["train_rows"] * 64 * 14 / 15 * 0.5  # both processes' tokens are counted
    assert two["last_loss"] < two["first_loss"] * 0.6
    metrics = [json.loads(line) for line in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics if "loss" in m] == list(range(1, two["steps"] + 1))  # rank 0 only
    assert any("2 training processes (torchrun)" in line for line in lines)
    AutoModelForCausalLM.from_pretrained(str(tmp_path / "two"), local_files_only=True)


def test_a_failing_process_fails_the_training_with_its_error(tmp_path):
    import pytest

    from waterworks.models.recipes.pretrain import PretrainConfig

    with pytest.raises(RuntimeError, match="torchrun with 2 processes failed"):
        run_recipe("pretrain", PretrainConfig(device="cpu"), {"train_texts": [], "validation_texts": [],
                                                              "out_dir": tmp_path}, processes=2, log=lambda _: None)
