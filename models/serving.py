"""The pyfunc models the registry stores and ``mlflow models serve`` (or ``waterworks serve``) answers with.
Input: a DataFrame with a ``text`` column (or a list of strings).

- The intent classifier: one row per text with the predicted ``label`` and its probability ``score``; its
  files travel as the pyfunc artifact ``classifier`` (encoder/, head.safetensors, classifier.json).
- The PII detector: one row per text with ``spans``, a JSON list of ``[start, end, label, score]`` (labels PER,
  ADDR, ORG, LOC) at the detector's own thresholds (``language``, optional column: en / zh); its files travel
  as the pyfunc artifact ``detector`` (tagger.json, model.safetensors, card.json)."""

from __future__ import annotations

import mlflow.pyfunc

CLASSIFIER_ARTIFACT, DETECTOR_ARTIFACT = "classifier", "detector"


def classify(model, tokenizer, meta: dict, texts: list[str]):
    """(labels, scores) for ``texts`` with a loaded classifier."""
    import torch

    from .encoder_classifier import predict

    if not texts:
        return [], []
    probabilities = torch.softmax(predict(model, tokenizer, texts, meta["max_length"], "cpu"), dim=-1)
    scores, index = probabilities.max(dim=-1)
    return [meta["labels"][i] for i in index.tolist()], [round(float(s), 6) for s in scores]


def _texts(model_input) -> list[str]:
    import pandas as pd

    if isinstance(model_input, pd.DataFrame):
        if "text" not in model_input.columns:
            raise ValueError(f"expected a 'text' column, got {list(model_input.columns)}")
        return model_input["text"].astype(str).tolist()
    return [str(t) for t in model_input]


class IntentClassifierModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from .encoder_classifier import load_classifier

        self.model, self.tokenizer, self.meta = load_classifier(context.artifacts[CLASSIFIER_ARTIFACT], "cpu")

    def predict(self, context, model_input, params=None):
        import pandas as pd

        labels, scores = classify(self.model, self.tokenizer, self.meta, _texts(model_input))
        return pd.DataFrame({"label": labels, "score": scores})


class PiiDetectorModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from .token_tagger import TokenTagger

        self.tagger = TokenTagger.load(context.artifacts[DETECTOR_ARTIFACT])

    def predict(self, context, model_input, params=None):
        import json

        import pandas as pd

        texts = _texts(model_input)
        languages = (model_input["language"].astype(str).tolist() if isinstance(model_input, pd.DataFrame)
                     and "language" in model_input.columns else [None] * len(texts))
        spans = [None] * len(texts)
        for language in set(languages):  # one threshold per language: predict each language's texts together
            rows = [i for i, lang in enumerate(languages) if lang == language]
            found = self.tagger.predict([texts[i] for i in rows], language=language)
            for i, text_spans in zip(rows, found, strict=True):
                spans[i] = json.dumps([[s.start, s.end, s.label, round(float(s.score), 4)] for s in text_spans])
        return pd.DataFrame({"spans": spans})
