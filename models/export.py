"""Edge export of the intent classifier: ONNX (torch.onnx, dynamo exporter), int8 weights by onnxruntime's
dynamic quantization, and a parity check of the exported model against the PyTorch one on the same inputs.

The ONNX graph takes ``input_ids`` and ``attention_mask`` (int64, batch × sequence, both dynamic) and returns
``logits`` (batch × labels); tokenization stays outside (the bundle carries ``tokenizer.json``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .encoder_classifier import load_classifier

INPUTS, OUTPUT = ("input_ids", "attention_mask"), "logits"


def export_classifier_onnx(classifier_dir: Path, out_file: Path, opset: int = 18) -> Path:
    """The classifier in ``classifier_dir`` as one self-contained float32 ONNX file."""
    model, tokenizer, _ = load_classifier(classifier_dir, "cpu")
    sample = tokenizer(["an example to trace", "another, longer example to trace the graph with"],
                       padding=True, return_tensors="pt")
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        program = torch.onnx.export(model, (sample["input_ids"], sample["attention_mask"]), dynamo=True,
                                    input_names=list(INPUTS), output_names=[OUTPUT], opset_version=opset,
                                    dynamic_shapes=({0: batch, 1: sequence}, {0: batch, 1: sequence}),
                                    verbose=False)
    program.save(str(out_file), external_data=False)
    return out_file


def quantize_int8(float_model: Path, out_file: Path) -> Path:
    """int8 weights (MatMul/Gemm, one scale per output channel), activations quantized on the fly:
    onnxruntime's dynamic quantization. Per-channel scales matter here: per-tensor int8 moved MiniLM's class
    probabilities by up to 0.16 and flipped 2% of labels; per-channel 0.05 and none (53 test tickets)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(float_model), str(out_file), weight_type=QuantType.QInt8, per_channel=True)
    return Path(out_file)


class OnnxClassifier:
    """An exported classifier in onnxruntime with the tokenizer it was trained with."""

    def __init__(self, onnx_file: Path, tokenizer, max_length: int, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.tokenizer, self.max_length = tokenizer, max_length

    def logits(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer(texts, truncation=True, max_length=self.max_length, padding=True, return_tensors="np")
        feed = {name: enc[name].astype(np.int64) for name in INPUTS}
        return self.session.run([OUTPUT], feed)[0]


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class Parity:
    examples: int
    max_logit_delta: float       # largest |logit_onnx - logit_torch|
    max_probability_delta: float  # largest |p_onnx - p_torch|
    label_agreement: float        # share of equal argmax labels
    decisive_examples: int        # examples where PyTorch's top label leads the next by at least tie_margin
    decisive_agreement: float     # share of equal labels among those: a flip here is a real disagreement
    tie_margin: float

    def as_dict(self) -> dict:
        return {"examples": self.examples, "max_logit_delta": round(self.max_logit_delta, 6),
                "max_probability_delta": round(self.max_probability_delta, 6),
                "label_agreement": round(self.label_agreement, 4), "tie_margin": self.tie_margin,
                "decisive_examples": self.decisive_examples,
                "decisive_agreement": round(self.decisive_agreement, 4)}


def parity(classifier_dir: Path, onnx_file: Path, texts: list[str], tie_margin: float = 0.05) -> Parity:
    """Run the same texts through the PyTorch classifier and the ONNX file (one text per call, as a device
    would), and compare logits, probabilities and labels. Labels are compared twice: on every text, and on the
    decisive ones, where PyTorch's top probability leads the runner-up by ``tie_margin`` or more; on a near
    tie any rounding (int8 weights, another CPU's kernels) may swap the two, which says nothing about the export."""
    model, tokenizer, meta = load_classifier(classifier_dir, "cpu")
    session = OnnxClassifier(onnx_file, tokenizer, meta["max_length"])
    torch_logits, onnx_logits = [], []
    with torch.no_grad():
        for text in texts:
            enc = tokenizer([text], truncation=True, max_length=meta["max_length"], return_tensors="pt")
            torch_logits.append(model(enc["input_ids"], enc["attention_mask"]).float().numpy()[0])
            onnx_logits.append(session.logits([text])[0])
    a, b = np.stack(torch_logits), np.stack(onnx_logits)
    pa = _softmax(a)
    top_two = np.sort(pa, axis=-1)[:, -2:]
    decisive = (top_two[:, 1] - top_two[:, 0]) >= tie_margin
    same = a.argmax(-1) == b.argmax(-1)
    return Parity(len(texts), float(np.abs(a - b).max()), float(np.abs(pa - _softmax(b)).max()),
                  float(same.mean()), int(decisive.sum()), float(same[decisive].mean()) if decisive.any() else 1.0,
                  tie_margin)


def latency_ms(predict, texts: list[str], repeats: int = 1) -> dict:
    """Per-request latency (one text per request) of ``predict([text])``: median and p95 in milliseconds."""
    predict(texts[:1])  # warm-up
    times = []
    for _ in range(repeats):
        for text in texts:
            started = time.perf_counter()
            predict([text])
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"requests": len(times), "median_ms": round(times[len(times) // 2], 3),
            "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 3)}
