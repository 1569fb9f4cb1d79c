#!/usr/bin/env bash
# One device call (GPU sessions only): the GPU path of the training recipes, then throughput and MFU of our
# packed bf16 loop against HF Trainer + PEFT on a ~0.36 B-parameter Qwen2 model. The device image has torch,
# transformers and peft; nothing is installed. Usage (device tool): bash bench/gpu.sh  → figures on stdout.
set -euo pipefail
export PYTHONPATH="$PWD" HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
# 1. the recipes on CUDA (bf16, fused AdamW): a tiny pretrain + LoRA SFT end to end, loss must fall
python3 - <<'PY'
import tempfile, pathlib
from models.recipes.pretrain import PretrainConfig, run as pretrain
from models.recipes.lora_sft import LoraSftConfig, run as sft
texts = [f"Ticket {i}: my card has not arrived, please check order {i % 17}." for i in range(400)]
chats = [[{"role": "user", "content": f"Where is order {i}?"}, {"role": "assistant", "content": f"Order {i} ships today."}] for i in range(200)]
with tempfile.TemporaryDirectory() as d:
    p = pretrain(PretrainConfig(size="small", vocab_size=800, seq_len=256, batch_size=16, epochs=3, device="cuda"), texts, texts[:20], pathlib.Path(d) / "lm", log=lambda _: None)
    s = sft(LoraSftConfig(seq_len=256, batch_size=8, epochs=2, device="cuda"), pathlib.Path(d) / "lm", chats, chats[:10], pathlib.Path(d) / "sft", log=lambda _: None)
    print("cuda recipes:", p["runtime"]["dtype"], "pretrain loss", p["first_loss"], "->", p["last_loss"], "| sft loss", s["first_loss"], "->", s["last_loss"])
    assert p["last_loss"] < p["first_loss"] and s["last_loss"] < s["first_loss"]
PY
# 1b. the data-parallel path on CUDA (needs 2+ GPUs: NCCL refuses two ranks on one device): the same recipe
#     under torchrun with one process per visible GPU
python3 - <<'PY'
import tempfile, pathlib, torch
from models.distributed import run_recipe
from models.recipes.pretrain import PretrainConfig
n = torch.cuda.device_count()
if n < 2:
    print(f"torchrun: {n} GPU visible, data-parallel path not exercised here")
else:
    texts = [f"Ticket {i}: my card has not arrived, please check order {i % 17}." for i in range(400)]
    with tempfile.TemporaryDirectory() as d:
        config = PretrainConfig(size="small", vocab_size=800, seq_len=256, batch_size=16, epochs=3, device="cuda")
        s = run_recipe("pretrain", config, {"train_texts": texts, "validation_texts": texts[:20],
                                            "out_dir": pathlib.Path(d) / "ddp"}, processes=n, log=print)
        print("torchrun:", s["runtime"]["processes"], "processes,", s["steps"], "steps,", s["tokens_per_s"],
              "tokens/s, loss", s["first_loss"], "->", s["last_loss"])
PY
# 2. throughput: ours vs the HF Trainer baseline, LoRA and full, same model/batch/steps
timeout 420 python3 bench/gpu_train.py --size medium --seq-len 2048 --batch 8 --steps 20
