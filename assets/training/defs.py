"""Training: pretrain, LoRA fine-tuning and evaluation (torch imported lazily inside the assets).
Assets join this list as the stage is built (issue: datasets and training)."""

GROUP = "training"
ASSETS: list = []
