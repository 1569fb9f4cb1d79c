"""Whether the data-use policy lets a product's data feed its training, by data classification: a lake
dataset's as its card counts them, or the declared classification of data a product brings (the PII
detector's public corpora). The blocking ``training_policy`` checks, the training assets of products without
a lake dataset, and the compliance report call this."""

from __future__ import annotations

from waterworks.governance.policy import Policy, TrainingDecision, decide_training

from ..datasets.store import ZONE, read_card
from ..lake import Lake


def training_decision(lake: Lake, product, policy: Policy) -> TrainingDecision:
    """The decision for the data the product's training would read now."""
    if product.dataset is None:
        data = product.brought_data()
        return decide_training(product.name, f"{data['name']}@{data['version']}", data["classifications"], policy)
    card = read_card(lake, product.dataset)
    return decide_training(product.name, f"{product.dataset}@{card['version']}", card.get("classifications", {}),
                           policy)


def training_decisions(lake: Lake, policy: Policy) -> list[TrainingDecision]:
    from ..products import PRODUCTS

    return [training_decision(lake, p, policy) for p in PRODUCTS
            if p.dataset is None or lake.exists(ZONE, f"{p.dataset}/current.json")]
