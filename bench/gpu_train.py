"""GPU throughput of our training loop against a plain Hugging Face Trainer + PEFT baseline, in one run.

    python3 bench/gpu_train.py [--size medium] [--seq-len 2048] [--steps 30]

A Qwen2-architecture model built from a config (``models.causal_lm.SIZES``; medium ≈ 0.36 B parameters at a
32k vocabulary), trained in bf16 on documents of varied length (synthetic token streams: throughput does not
depend on the text, and the device machine has no data or network):

- ours: documents packed into full rows (``models.text.pack``: positions restart per document, a
  block-diagonal causal mask), fused AdamW, bf16 autocast, our loop (``models.loop.train_loop``); LoRA (PEFT,
  all linear layers, r=16) and full fine-tuning.
- baseline: ``transformers.Trainer`` with ``peft`` for LoRA, one document per row padded to the batch's longest
  (the usual recipe), bf16, the same model, batch and steps.

Prints tokens/s (real tokens, padding excluded) and MFU = 6 · parameters · tokens/s / 989 TFLOP/s (H100 dense
bf16), and each configuration's ratio to the baseline. Needs torch, transformers, peft on a CUDA machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

PEAK_BF16 = 989e12


class _Tok:  # the two ids the model config needs
    eos_token_id, pad_token_id = 0, 1

    def __init__(self, vocab: int) -> None:
        self.vocab = vocab

    def __len__(self) -> int:
        return self.vocab


def documents(n: int, vocab: int, seed: int = 0) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(64, min(1800, 4 * n), (n,), generator=g).tolist()  # support tickets to long FAQ pages
    return [torch.randint(2, vocab, (length,), generator=g).tolist() for length in lengths]


DEVICE = "cuda"


def build(size: str, vocab: int, attn: str):
    from waterworks.models.causal_lm import build_from_config, qwen2_config
    from waterworks.models.runtime import pick_runtime

    return build_from_config(qwen2_config(size, _Tok(vocab)), pick_runtime(DEVICE), seed=0, attn=attn)


def lora(model):
    from peft import LoraConfig, get_peft_model

    return get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear",
                                            task_type="CAUSAL_LM"))


def ours(size, vocab, docs, seq_len, batch, steps, method, attn) -> dict:
    from waterworks.models.causal_lm import count_parameters, lm_loss
    from waterworks.models.loop import LoopConfig, train_loop
    from waterworks.models.runtime import pick_runtime
    from waterworks.models.text import Example, pack, row_batches

    runtime = pick_runtime(DEVICE)
    model = build(size, vocab, attn)
    params = count_parameters(model)
    if method == "lora":
        model = lora(model)
    packed = pack((Example(d, d) for d in docs), seq_len, 1, split_long=True)

    class Quiet:
        def log_params(self, p): pass
        def log_metrics(self, m, step): pass
        def log_artifact(self, p): pass

    g = torch.Generator().manual_seed(0)
    config = LoopConfig(max_steps=3, epochs=0, lr=1e-4 if method == "full" else 1e-3)
    train_loop(model, lambda e: row_batches(packed, batch, g), 10**6, lm_loss, runtime, config, Quiet())  # warm-up
    _sync()
    config = LoopConfig(max_steps=steps, epochs=0, lr=config.lr)
    result = train_loop(model, lambda e: row_batches(packed, batch, g), 10**6, lm_loss, runtime, config, Quiet())
    return {"params": params, "tokens_per_s": result.tokens_per_second, "seconds": result.seconds,
            "memory_gb": torch.cuda.max_memory_allocated() / 1e9 if DEVICE == "cuda" else 0.0}


def baseline(size, vocab, docs, seq_len, batch, steps, method) -> dict:
    from transformers import Trainer, TrainingArguments

    model = build(size, vocab, "sdpa")
    params = sum(p.numel() for p in model.parameters())
    if method == "lora":
        model = lora(model)
    rows = [{"input_ids": d[:seq_len], "labels": d[:seq_len]} for d in docs]
    real = {"tokens": 0}

    def collate(features):
        width = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), width), 1)
        labels = torch.full((len(features), width), -100)
        mask = torch.zeros((len(features), width), dtype=torch.long)
        for i, f in enumerate(features):
            n = len(f["input_ids"])
            ids[i, :n], labels[i, :n], mask[i, :n] = torch.tensor(f["input_ids"]), torch.tensor(f["labels"]), 1
            real["tokens"] += n
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}

    args = TrainingArguments(output_dir="/tmp/hf-baseline", per_device_train_batch_size=batch, max_steps=steps + 3,
                             bf16=DEVICE == "cuda", use_cpu=DEVICE == "cpu", learning_rate=1e-4 if method == "full" else 1e-3, logging_steps=10**6,
                             save_strategy="no", report_to=[], dataloader_num_workers=0, optim="adamw_torch_fused",
                             remove_unused_columns=False, disable_tqdm=True)

    from transformers import TrainerCallback

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if state.global_step == 3:
                _sync()
                real["start_tokens"], real["start"] = real["tokens"], time.monotonic()

    trainer = Trainer(model=model, args=args, train_dataset=rows, data_collator=collate, callbacks=[Clock()])
    trainer.train()
    _sync()
    seconds = time.monotonic() - real["start"]
    # tokens collated (in this process: no loader workers) after the warm-up steps; the loader may run a batch
    # ahead, a small overcount in the baseline's favour
    return {"params": params, "tokens_per_s": (real["tokens"] - real["start_tokens"]) / seconds, "seconds": seconds,
            "memory_gb": torch.cuda.max_memory_allocated() / 1e9 if DEVICE == "cuda" else 0.0}


def _sync() -> None:
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    global DEVICE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="medium")
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--seq-len", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--attn", default="sdpa", help="ours: sdpa or flex_attention")
    parser.add_argument("--methods", default="lora,full")
    parser.add_argument("--cpu-smoke", action="store_true", help="a tiny CPU run that checks the script itself")
    args = parser.parse_args()
    if args.cpu_smoke:
        DEVICE = "cpu"
    elif not torch.cuda.is_available():
        raise SystemExit("bench/gpu_train.py needs a CUDA device (or --cpu-smoke)")
    print(f"{torch.cuda.get_device_name(0) if DEVICE == 'cuda' else 'cpu'}, torch {torch.__version__}", flush=True)
    docs = documents(40 if args.cpu_smoke else 4000, args.vocab)
    rows = []
    for method in args.methods.split(","):
        for name, fn in (("ours (packed)", lambda m=method: ours(args.size, args.vocab, docs, args.seq_len, args.batch,
                                                                  args.steps, m, args.attn)),
                         ("HF Trainer + PEFT (padded)", lambda m=method: baseline(
                             args.size, args.vocab, docs, args.seq_len, args.batch, args.steps, m))):
            if DEVICE == "cuda":
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            r = fn()
            r["mfu"] = 6 * r["params"] * r["tokens_per_s"] / PEAK_BF16
            rows.append((method, name, r))
            print(f"{method:5s} {name:28s} {r['tokens_per_s']:>10,.0f} tokens/s  MFU {r['mfu']:.1%}  "
                  f"{r['memory_gb']:.1f} GB  ({r['params'] / 1e6:.0f} M parameters)", flush=True)
    print("\n| method | configuration | tokens/s | MFU | vs baseline |\n|---|---|---|---|---|")
    for method, name, r in rows:
        base = next(x for m, n, x in rows if m == method and n.startswith("HF"))
        print(f"| {method} | {name} | {r['tokens_per_s']:,.0f} | {r['mfu']:.1%} | "
              f"{r['tokens_per_s'] / base['tokens_per_s']:.2f}x |")


if __name__ == "__main__":
    main()
