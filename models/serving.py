"""The intent classifier as an MLflow pyfunc model: what the registry stores and ``mlflow models serve`` (or
``waterworks serve``) answers with. Input: a DataFrame with a ``text`` column (or a list of strings); output:
one row per text with the predicted ``label`` and its probability ``score``. The model's files travel as the
pyfunc artifact ``classifier`` (encoder/, head.safetensors, classifier.json)."""

from __future__ import annotations

import mlflow.pyfunc

CLASSIFIER_ARTIFACT = "classifier"


def classify(model, tokenizer, meta: dict, texts: list[str]):
    """(labels, scores) for ``texts`` with a loaded classifier."""
    import torch

    from .encoder_classifier import predict

    if not texts:
        return [], []
    probabilities = torch.softmax(predict(model, tokenizer, texts, meta["max_length"], "cpu"), dim=-1)
    scores, index = probabilities.max(dim=-1)
    return [meta["labels"][i] for i in index.tolist()], [round(float(s), 6) for s in scores]


class IntentClassifierModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from .encoder_classifier import load_classifier

        self.model, self.tokenizer, self.meta = load_classifier(context.artifacts[CLASSIFIER_ARTIFACT], "cpu")

    def predict(self, context, model_input, params=None):
        import pandas as pd

        if isinstance(model_input, pd.DataFrame):
            if "text" not in model_input.columns:
                raise ValueError(f"expected a 'text' column, got {list(model_input.columns)}")
            texts = model_input["text"].astype(str).tolist()
        else:
            texts = [str(t) for t in model_input]
        labels, scores = classify(self.model, self.tokenizer, self.meta, texts)
        return pd.DataFrame({"label": labels, "score": scores})
