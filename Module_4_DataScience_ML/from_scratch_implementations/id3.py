"""ID3 (Data Science from Scratch, chapter 17): multi-way splits on categorical attributes.

Rows are dicts of attribute values. At each node ID3 splits on the attribute whose partition
of the rows leaves the least entropy Σ_S (|S|/n) H(S), one child per value, and stops with the
majority label when the node is pure or no attribute is left. Unlike CART (``decision_trees.py``)
it never reuses an attribute on a path and has no numeric thresholds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable
from dataclasses import dataclass

from .decision_trees import entropy


@dataclass(frozen=True)
class Leaf:
    value: Hashable


@dataclass(frozen=True)
class ID3Split:
    attribute: str
    subtrees: dict[Hashable, Leaf | ID3Split]
    default_value: Hashable = None


def partition_entropy(subsets: list[list[Hashable]]) -> float:
    """Σ_S (|S|/n) H(S): the entropy left after splitting into ``subsets`` of labels."""
    n = sum(len(s) for s in subsets)
    return sum(entropy(list(Counter(s).values())) * len(s) / n for s in subsets)


def build_id3(
    inputs: list[dict[str, Hashable]], target: str, split_attributes: list[str]
) -> Leaf | ID3Split:
    """ID3: split on the attribute whose multiway partition leaves the least entropy.

    Stops with a leaf when the labels are pure or no attributes remain (majority label).
    """
    labels = Counter(row[target] for row in inputs)
    majority = min(labels, key=lambda label: (-labels[label], repr(label)))
    if len(labels) == 1 or not split_attributes:
        return Leaf(majority)

    def groups(attribute: str) -> dict[Hashable, list[dict[str, Hashable]]]:
        out: dict[Hashable, list[dict[str, Hashable]]] = defaultdict(list)
        for row in inputs:
            out[row[attribute]].append(row)
        return out

    def remaining_entropy(attribute: str) -> float:
        parts = groups(attribute).values()
        return partition_entropy([[row[target] for row in part] for part in parts])

    best = min(split_attributes, key=lambda a: (remaining_entropy(a), a))
    rest = [a for a in split_attributes if a != best]
    subtrees = {value: build_id3(part, target, rest) for value, part in groups(best).items()}
    return ID3Split(best, subtrees, default_value=majority)


def classify_id3(tree: Leaf | ID3Split, row: dict[str, Hashable]) -> Hashable:
    """Walk the ID3 tree; an attribute value never seen in training gets the node's majority."""
    while isinstance(tree, ID3Split):
        value = row.get(tree.attribute)
        if value not in tree.subtrees:
            return tree.default_value
        tree = tree.subtrees[value]
    return tree.value
