"""Dataset cards: computed numbers, and the committed datasets/ files are up to date."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cem.data import SPECS, paper
from cem.data.cards import card, checksums, expected_files, sha256
from cem.errors import CemError

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
EXPECTED = expected_files()  # computed once: every card generates its dataset


@pytest.mark.parametrize(
    ("name", "ceiling"), [("xor", "100.00%"), ("trig", "81.83%"), ("dot", "76.83%")]
)
def test_card_headline_is_the_test_ceiling(name: str, ceiling: str) -> None:
    text = card(name)
    assert f"**Concept-only ceiling on the test split: {ceiling}**" in text
    assert SPECS[name].formula in text
    assert f"cem-data generate {name} --protocol paper -o {name}.npz" in text


def test_card_lists_sizes_balances_and_every_checksum() -> None:
    text = card("dot")
    assert "| train | 2100 | 52.10% |" in text and "| test | 600 | 52.00% |" in text
    for split, arrays in checksums(paper("dot")).items():
        for a, digest in arrays.items():
            assert f"| {split} | {a} |" in text and digest in text


def test_sha256_is_over_the_raw_bytes() -> None:
    import hashlib

    x = paper("xor")["val"].x
    assert sha256(x) == hashlib.sha256(x.tobytes()).hexdigest()


def test_unknown_dataset() -> None:
    with pytest.raises(CemError, match="^dataset='xr' is unknown; allowed: dot, many, trig, xor$"):
        card("xr")


@pytest.mark.parametrize("fname", sorted(EXPECTED))
def test_committed_dataset_files_are_up_to_date(fname: str) -> None:
    """Regenerate with `cem-data cards --write` when this fails after an intended change."""
    path = DATASETS / fname
    assert path.exists(), f"{path} is missing"
    same = path.read_text(encoding="utf-8") == EXPECTED[fname]
    assert same


def test_checksums_json_layout() -> None:
    sums = json.loads((DATASETS / "checksums.json").read_text())
    assert set(sums) == set(SPECS)
    for by_split in sums.values():
        assert set(by_split) == {"train", "val", "test"}
        for by_array in by_split.values():
            assert set(by_array) == {"x", "c", "y"}
            assert all(len(d) == 64 for d in by_array.values())
