"""Per-request latency of the deployment bundles on this machine, on the same texts, one text per request:

- edge: the int8 ONNX classifier of the edge bundle in onnxruntime (and the float32 export, for reference);
- server: the classifier's MLflow pyfunc model of the server bundle (PyTorch float32), in-process and over HTTP
  through ``mlflow models serve`` on loopback (what ``waterworks serve`` runs);
- the chat model's server bundle: one answer of 32 new tokens per request (transformers, greedy).

Run after ``make run`` (it reads the bundles under .waterworks/bundles, or WATERWORKS_HOME):

    .venv/bin/python bench/serving_latency.py [--requests 200] [--threads N]

Prints bundle sizes, median and p95 latency per configuration, and the server/edge ratio."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def latest(folder: Path) -> Path:
    versions = sorted(folder.glob("v*"), key=lambda p: int(p.name[1:]))
    if not versions:
        raise SystemExit(f"no bundle under {folder}: run `make run` first")
    return versions[-1]


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def http_latency(model_dir: Path, texts: list[str]) -> dict:
    from waterworks.models.export import latency_ms

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    server = subprocess.Popen([str(Path(sys.executable).parent / "mlflow"), "models", "serve", "-m", str(model_dir),
                               "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "--workers", "1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                time.sleep(1)

        def post(batch: list[str]):
            body = json.dumps({"dataframe_records": [{"text": t} for t in batch]}).encode()
            request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                             headers={"Content-Type": "application/json"})
            return json.loads(urllib.request.urlopen(request, timeout=30).read())

        return latency_ms(post, texts)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--threads", type=int, default=None, help="torch and onnxruntime threads (default: all)")
    parser.add_argument("--chat-requests", type=int, default=20)
    args = parser.parse_args()

    import mlflow.pyfunc
    import pandas as pd
    import torch
    from transformers import AutoTokenizer

    from waterworks.assets.datasets.store import read_split
    from waterworks.assets.lake import Lake
    from waterworks.models.export import OnnxClassifier, export_classifier_onnx, latency_ms
    from waterworks.pipelines.settings import get_settings

    if args.threads:
        torch.set_num_threads(args.threads)
    settings = get_settings()
    bundles = settings.bundles_dir
    edge = latest(bundles / "edge" / "waterworks-intent-classifier")
    server = latest(bundles / "server" / "waterworks-intent-classifier")
    chat = latest(bundles / "server" / "waterworks-chat") if (bundles / "server" / "waterworks-chat").is_dir() else None
    texts = read_split(Lake(str(settings.lake_uri)), "classification", "test")["text"].to_list()
    texts = (texts * (args.requests // max(len(texts), 1) + 1))[:args.requests]
    print(f"{len(texts)} requests of one ticket text each (classification test split); torch threads "
          f"{torch.get_num_threads()}")
    print("\nbundle sizes:")
    for name, folder in (("edge (int8 ONNX)", edge), ("server classifier (MLflow pyfunc)", server),
                         ("server chat (safetensors + vLLM config)", chat)):
        if folder:
            print(f"  {name:<42} {size_mb(folder):8.1f} MB  {folder}")

    meta = json.loads((edge / "classifier.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(str(edge))
    results = {}
    int8 = OnnxClassifier(edge / "model.int8.onnx", tokenizer, meta["max_length"], args.threads)
    results["edge int8 ONNX (onnxruntime)"] = latency_ms(int8.logits, texts)
    with tempfile.TemporaryDirectory() as scratch:
        fp32_file = export_classifier_onnx(server / "mlflow_model" / "artifacts" / "classifier",
                                           Path(scratch) / "model.onnx")
        fp32 = OnnxClassifier(fp32_file, tokenizer, meta["max_length"], args.threads)
        results["float32 ONNX (onnxruntime, reference)"] = latency_ms(fp32.logits, texts)
    pyfunc = mlflow.pyfunc.load_model(str(server / "mlflow_model"))
    results["server pyfunc in-process (PyTorch fp32)"] = latency_ms(
        lambda batch: pyfunc.predict(pd.DataFrame({"text": batch})), texts)
    results["server over HTTP (mlflow models serve)"] = http_latency(server / "mlflow_model", texts)
    if chat:
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(str(chat / "model")).eval()
        chat_tokenizer = AutoTokenizer.from_pretrained(str(chat / "model"))

        def answer(batch):
            prompt = chat_tokenizer.apply_chat_template([{"role": "user", "content": batch[0]}],
                                                        add_generation_prompt=True, return_tensors="pt",
                                                        return_dict=True)
            with torch.no_grad():
                return model.generate(**prompt, max_new_tokens=32, min_new_tokens=32, do_sample=False)

        results["chat server bundle, 32 new tokens (transformers)"] = latency_ms(answer, texts[:args.chat_requests])

    print("\nper-request latency:")
    for name, r in results.items():
        print(f"  {name:<50} median {r['median_ms']:8.2f} ms   p95 {r['p95_ms']:8.2f} ms   ({r['requests']} requests)")
    edge_ms = results["edge int8 ONNX (onnxruntime)"]["median_ms"]
    for name in ("server pyfunc in-process (PyTorch fp32)", "server over HTTP (mlflow models serve)"):
        print(f"  ratio {name} / edge int8: {results[name]['median_ms'] / edge_ms:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
