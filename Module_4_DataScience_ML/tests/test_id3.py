"""ID3 (the book's chapter 17) on the book's own interview data."""

from __future__ import annotations

from Module_4_DataScience_ML.from_scratch_implementations.id3 import (
    ID3Split,
    Leaf,
    build_id3,
    classify_id3,
    partition_entropy,
)


def test_id3_on_the_books_interview_data():
    rows = [
        ("Senior", "Java", False, False, False), ("Senior", "Java", False, True, False),
        ("Mid", "Python", False, False, True), ("Junior", "Python", False, False, True),
        ("Junior", "R", True, False, True), ("Junior", "R", True, True, False),
        ("Mid", "R", True, True, True), ("Senior", "Python", False, False, False),
        ("Senior", "R", True, False, True), ("Junior", "Python", True, False, True),
        ("Senior", "Python", True, True, True), ("Mid", "Python", False, True, True),
        ("Mid", "Java", True, False, True), ("Junior", "Python", False, True, False),
    ]  # fmt: skip
    keys = ["level", "lang", "tweets", "phd", "did_well"]
    data = [dict(zip(keys, row, strict=True)) for row in rows]
    tree = build_id3(data, "did_well", ["level", "lang", "tweets", "phd"])
    assert tree.attribute == "level"  # the book's first split
    assert all(classify_id3(tree, row) == row["did_well"] for row in data)
    assert classify_id3(tree, {"level": "Intern"}) == tree.default_value


def test_partition_entropy_weights_each_subset_by_its_size():
    assert partition_entropy([["a", "a"], ["b", "b"]]) == 0.0  # pure parts: nothing left
    assert partition_entropy([["a", "b"], ["a", "a"]]) == 0.5  # one 1-bit half, one pure half


def test_pure_labels_or_no_attributes_left_give_a_leaf_with_the_majority():
    rows = [{"x": 1, "y": "a"}, {"x": 2, "y": "a"}, {"x": 2, "y": "b"}]
    assert build_id3(rows[:2], "y", ["x"]) == Leaf("a")
    assert build_id3(rows, "y", []) == Leaf("a")
    split = build_id3(rows, "y", ["x"])
    assert isinstance(split, ID3Split)
    assert split.subtrees[1] == Leaf("a")
