"""Which dataset each training reads, and whether the data-use policy lets that dataset's documents feed it
(by data classification, as the dataset card counts them). The blocking ``training_policy`` checks and the
compliance report call this."""

from __future__ import annotations

from governance.policy import Policy, TrainingDecision, decide_training

from ..datasets.build import CHAT, CLASSIFICATION, CORPUS
from ..datasets.store import ZONE, read_card
from ..lake import Lake
from .train import CHAT_MODEL, INTENT_CLASSIFIER, PRETRAINED_LM

TRAINED_ON = {PRETRAINED_LM: CORPUS, CHAT_MODEL: CHAT, INTENT_CLASSIFIER: CLASSIFICATION}


def trainings_of(dataset: str) -> list[str]:
    return [training for training, name in TRAINED_ON.items() if name == dataset]


def training_decision(lake: Lake, training: str, policy: Policy) -> TrainingDecision:
    """The decision for the dataset version that is current now (the one the training would read)."""
    dataset = TRAINED_ON[training]
    card = read_card(lake, dataset)
    return decide_training(training, f"{dataset}@{card['version']}", card.get("classifications", {}), policy)


def training_decisions(lake: Lake, policy: Policy) -> list[TrainingDecision]:
    return [training_decision(lake, training, policy) for training in TRAINED_ON
            if lake.exists(ZONE, f"{TRAINED_ON[training]}/current.json")]
