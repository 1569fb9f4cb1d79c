"""How well a detector finds labelled spans: span recall and precision by label, the measure the recipe
picks its threshold by and the quality bench reports.

A gold span is *found* when every non-space character of it is covered by predicted spans of a personal
type (a name half-redacted still leaks). A predicted span is *correct* when it overlaps a gold span of its
label. Texts are predicted in batches; results are counts and ratios, never values.
"""

from __future__ import annotations

from collections.abc import Sequence

PERSONAL = ("PER", "ADDR")


def covered(text: str, start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    return all(text[i].isspace() or any(s <= i < e for s, e in spans) for i in range(start, end))


def span_metrics(examples: Sequence, predicted: Sequence[Sequence[tuple[int, int, str]]],
                 label: str = "PER", counts_as: Sequence[str] = PERSONAL) -> dict:
    """Recall of ``label`` spans (covered by predictions of any type in ``counts_as``) and precision of
    predicted ``label`` spans."""
    gold_total = found = predicted_total = correct = 0
    for example, spans in zip(examples, predicted, strict=True):
        cover = [(s, e) for s, e, lab in spans if lab in counts_as]
        gold = [(s, e) for s, e, lab in example.spans if lab == label]
        gold_total += len(gold)
        found += sum(covered(example.text, s, e, cover) for s, e in gold)
        mine = [(s, e) for s, e, lab in spans if lab == label]
        predicted_total += len(mine)
        correct += sum(any(s < ge and gs < e for gs, ge in gold) for s, e in mine)
    return {"gold": gold_total, "found": found, "recall": found / gold_total if gold_total else 1.0,
            "predicted": predicted_total, "precision": correct / predicted_total if predicted_total else 1.0}


def person_metrics(tagger, examples: Sequence, threshold: float) -> dict:
    """Person recall and precision at ``threshold``, and ``clean_flagged``: the share of texts with no person
    and no address label in which the tagger flags one (None when there are none)."""
    predicted = [[(s.start, s.end, s.label) for s in spans]
                 for spans in tagger.predict([e.text for e in examples], threshold=threshold)]
    clean = [spans for e, spans in zip(examples, predicted, strict=True)
             if not any(lab in PERSONAL for *_, lab in e.spans)]
    flagged = sum(any(lab in PERSONAL for *_, lab in spans) for spans in clean)
    return {**span_metrics(examples, predicted), "clean_texts": len(clean),
            "clean_flagged": flagged / len(clean) if clean else None}
