"""save()/load(): exact round trips in every format, atomic writes, one-line errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cem.data import ConceptData, build, paper
from cem.data import io as dio
from cem.data.dataset import SPLITS, Split
from cem.errors import CemError


def _assert_same(a: ConceptData, b: ConceptData) -> None:
    for s in SPLITS:
        for k in "xcy":
            x, y = getattr(a[s], k), getattr(b[s], k)
            assert x.dtype == y.dtype and x.shape == y.shape, (s, k)
            assert x.tobytes() == y.tobytes(), (s, k)  # bit for bit
    assert b.meta == json.loads(json.dumps(a.meta))


@pytest.fixture(scope="module")
def variant() -> ConceptData:
    """Noisy Trig with hidden concepts and awkward floats (tiny, huge, negative zero)."""
    data = build(
        name="trig",
        size=300,
        input_noise=0.1,
        concept_noise=[0.1, 0.0, 0.2],
        task_noise=0.05,
        hidden_concepts=[2],
    )
    data["train"].x[0, :4] = [1e-310, -0.0, 1.7976931348623157e308, 0.1 + 0.2]
    return data


@pytest.mark.parametrize("ext", [".npz", ".csv"])
@pytest.mark.parametrize("name", ["xor", "trig", "dot"])
def test_round_trip_restores_arrays_and_meta(tmp_path: Path, name: str, ext: str) -> None:
    data = paper(name)
    path = dio.save(data, tmp_path / f"{name}{ext}")
    _assert_same(data, dio.load(path))


@pytest.mark.parametrize("ext", [".npz", ".csv", ".pt"])
def test_round_trip_of_a_variant(tmp_path: Path, variant: ConceptData, ext: str) -> None:
    loaded = dio.load(dio.save(variant, tmp_path / f"v{ext}"))
    _assert_same(variant, loaded)
    np.testing.assert_array_equal(loaded.supervised, [True, True, False])
    assert np.signbit(loaded["train"].x[0, 1])  # -0.0 survives


def test_an_empty_split_is_neither_saved_nor_loaded(tmp_path: Path) -> None:
    # An empty split used to round-trip, then train on nothing and complete at chance.
    data = build(name="dot", size=50)
    data.splits["val"] = Split(data["val"].x[:0], data["val"].c[:0], data["val"].y[:0])
    for ext in dio.FORMATS:
        with pytest.raises(CemError, match=r"^the val split is empty; allowed: at least one"):
            dio.save(data, tmp_path / f"e{ext}")
        assert not (tmp_path / f"e{ext}").exists()
    arrays = {f"{k}_{s}": getattr(data[s], k) for s in SPLITS for k in "xcy"}
    np.savez(tmp_path / "e.npz", **arrays, meta=np.array(dio.meta_json(data.meta)))
    with pytest.raises(CemError, match=r"^input='.*e\.npz': the val split is empty"):
        dio.load(tmp_path / "e.npz")


def test_npz_layout(tmp_path: Path) -> None:
    path = dio.save(paper("xor"), tmp_path / "x.npz")
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == sorted([*dio.KEYS, "meta"])
        assert json.loads(str(z["meta"]))["dataset"] == "xor"


def test_csv_layout_header_and_columns(tmp_path: Path) -> None:
    path = dio.save(paper("dot"), tmp_path / "d.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith(dio.CSV_MAGIC)
    assert json.loads(lines[0][len(dio.CSV_MAGIC) :])["meta"]["dataset"] == "dot"
    assert (
        lines[1]
        == "split,x:(v1+v2)_1,x:(v1+v2)_2,x:(v1-v2)_1,x:(v1-v2)_2,c:v1·w>0,c:v2·(-w)>0,y:v1·v2>0"
    )
    assert len(lines) == 2 + 3000 and lines[2].startswith("train,")
    assert lines[-1].startswith("test,")


def test_csv_column_names_are_one_line_and_unique() -> None:
    meta = {"feature_names": ["a", "a", "b\nc"], "concept_names": ["a"], "task_name": "t,1"}
    assert dio.csv_columns(meta) == ["split", "x:a", "x:a~2", "x:b c", "c:a", "y:t,1"]


def test_pt_holds_tensors_and_meta(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = dio.save(paper("xor"), tmp_path / "x.pt")
    obj = torch.load(path, weights_only=True)
    assert isinstance(obj["x_train"], torch.Tensor) and obj["x_train"].dtype == torch.float64
    assert json.loads(obj["meta"])["dataset"] == "xor"


# ---- errors -----------------------------------------------------------------------------------


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(
        CemError, match=r"^extension='\.txt' is unknown; allowed: \.csv, \.npz, \.pt$"
    ):
        dio.save(paper("xor"), tmp_path / "x.txt")
    with pytest.raises(CemError, match="^extension="):
        dio.load(tmp_path / "x")


def test_missing_output_folder(tmp_path: Path) -> None:
    with pytest.raises(CemError, match=r"^output=.*folder .* does not exist"):
        dio.save(paper("xor"), tmp_path / "nope" / "x.npz")


def test_existing_output_needs_force(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    path.write_bytes(b"old")
    with pytest.raises(CemError, match=r"^output=.*already exists.*force"):
        dio.save(paper("xor"), path)
    assert path.read_bytes() == b"old"
    dio.save(paper("xor"), path, force=True)
    _assert_same(paper("xor"), dio.load(path))


def test_output_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(CemError, match=r"^output=.*is a folder"):
        dio.save(paper("xor"), tmp_path / "d.npz", force=True)


def test_missing_input(tmp_path: Path) -> None:
    with pytest.raises(CemError, match=r"^input='.*x\.npz' does not exist$"):
        dio.load(tmp_path / "x.npz")


def _foreign_files(tmp_path: Path) -> list[Path]:
    text = "hello, world\n1,2,3\n"
    files = {name: text for name in ("t.npz", "t.csv", "t.pt")}
    paths = []
    for name, content in files.items():
        (tmp_path / name).write_text(content)
        paths.append(tmp_path / name)
    np.savez(tmp_path / "other.npz", a=np.arange(3))  # an npz without our keys
    np.save(tmp_path / "single.npy", np.arange(3))
    (tmp_path / "single.npy").rename(tmp_path / "single.npz")  # not an archive
    with zipfile.ZipFile(tmp_path / "zip.pt", "w") as z:
        z.writestr("hello.txt", "hi")
    good = dio.save(paper("xor"), tmp_path / "good.csv").read_text().splitlines()
    (tmp_path / "cut.csv").write_text("\n".join(good[:2] + ["train,0.1"]) + "\n")  # short row
    (tmp_path / "badsplit.csv").write_text("\n".join(good[:3] + ["dev" + good[3][5:]]) + "\n")
    (tmp_path / "nojson.csv").write_text(dio.CSV_MAGIC + "{oops\n")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)))
    return [
        *paths,
        *(tmp_path / n for n in ("other.npz", "single.npz", "zip.pt", "cut.csv")),
        *(tmp_path / n for n in ("badsplit.csv", "nojson.csv", "binary.csv")),
    ]


def test_foreign_or_broken_files_give_one_line_errors(tmp_path: Path) -> None:
    # A CSV without our header line is read as a plain CSV, which needs its columns named.
    plain = r"^input='.*t\.csv': a plain CSV \(no cem-bench header line\) needs"
    for path in _foreign_files(tmp_path):
        with pytest.raises(
            CemError, match=rf"^input=.* is not a cem-bench \.(npz|csv|pt) file: |{plain}"
        ) as e:
            dio.load(path)
        assert "\n" not in str(e.value), path


def test_pt_of_a_plain_tensor_is_foreign(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.save(torch.zeros(3), tmp_path / "t.pt")
    with pytest.raises(CemError, match=r"^input=.*not a cem-bench \.pt file: holds a Tensor"):
        dio.load(tmp_path / "t.pt")


def test_npz_with_wrong_shapes_is_foreign(tmp_path: Path) -> None:
    data = paper("xor")
    arrays = {f"{k}_{s}": getattr(data[s], k) for s in SPLITS for k in "xcy"}
    arrays["c_val"] = arrays["c_val"][:5]
    np.savez(tmp_path / "w.npz", **arrays, meta=np.array(dio.meta_json(data.meta)))
    with pytest.raises(CemError, match=r"val shapes .* do not fit"):
        dio.load(tmp_path / "w.npz")


# ---- atomic writes ----------------------------------------------------------------------------


def _failing_writer(data: ConceptData, path: Path) -> None:
    path.write_bytes(b"half a file")
    raise OSError("disk full")


@pytest.mark.parametrize("exists", [False, True])
def test_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exists: bool
) -> None:
    path = tmp_path / "x.npz"
    if exists:
        dio.save(paper("dot"), path)
    before = path.read_bytes() if exists else None
    monkeypatch.setitem(dio._WRITERS, ".npz", _failing_writer)
    with pytest.raises(OSError, match="disk full"):
        dio.save(paper("xor"), path, force=True)
    assert [p.name for p in tmp_path.iterdir()] == (["x.npz"] if exists else [])
    if exists:
        assert path.read_bytes() == before


def test_written_file_gets_normal_permissions(tmp_path: Path) -> None:
    path = dio.save(paper("xor"), tmp_path / "x.csv")
    assert path.stat().st_mode & 0o777 == dio._umask_mode()  # mkstemp alone would give 0600
