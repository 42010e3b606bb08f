"""Your own data: arrays, plain .npz and CSV files, cem-data import, and training on them; the
file a run read is identified by its bytes."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cem.data import budget, build
from cem.data import io as dio
from cem.data.cli import main as data_main
from cem.data.datamodule import ConceptDataModule
from cem.data.dataset import SPLITS, Split
from cem.data.plain import PlainColumns, from_arrays
from cem.errors import CemError
from cem.train import run

TINY = {
    "model": {"emb_size": 2, "extractor": {"hidden": [8], "out": 8}},
    "trainer": {"max_epochs": 2, "progress": "none", "check_val_every_n_epoch": 1},
    "evaluation": {"alignment": False, "impurity": False, "interventions": False},
}


def own_arrays(n: int = 200, classes: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, 3))
    c = (x[:, :2] > 0).astype(np.int64)
    y = (c[:, 0] + c[:, 1]) % classes if classes == 2 else c[:, 0] + c[:, 1]
    return x, c, y


def write_csv(path: Path, x: np.ndarray, c: np.ndarray, y: np.ndarray, split=None) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["age", "dose", "noise", "tall", "heavy", "sick", *(["split"] if split else [])])
        for i in range(len(y)):
            w.writerow(
                [*(repr(float(v)) for v in x[i]), *c[i], y[i], *([split[i]] if split else [])]
            )
    return path


def test_arrays_split_at_random_from_a_seed_or_as_given() -> None:
    x, c, y = own_arrays()
    a, b, other = from_arrays(x, c, y), from_arrays(x, c, y), from_arrays(x, c, y, seed=7)
    assert [len(a[s]) for s in SPLITS] == [140, 20, 40]
    assert a["train"].x.tobytes() == b["train"].x.tobytes()  # the same seed, the same split
    assert a["train"].x.tobytes() != other["train"].x.tobytes()
    rows = np.concatenate([a[s].x for s in SPLITS])
    assert sorted(map(tuple, rows)) == sorted(map(tuple, x))  # every row once
    split = np.array(["train"] * 100 + ["val"] * 50 + ["test"] * 50)
    given = from_arrays(x, c, y, split, name="mine")
    np.testing.assert_array_equal(given["val"].x, x[100:150])
    assert given.meta["split"] == "given" and given.meta["dataset"] == "mine"
    assert a.meta["split"] == {"fractions": [0.7, 0.1, 0.2], "seed": 42}


def test_arrays_get_the_same_checks_as_a_file() -> None:
    x, c, y = own_arrays()
    bad_x = x.copy()
    bad_x[5, 2] = np.nan
    with pytest.raises(CemError, match=r"^x_\w+ holds NaN or inf"):
        from_arrays(bad_x, c, y)
    with pytest.raises(CemError, match=r"^x, c and y have 200, 199 and 200 rows"):
        from_arrays(x, c[:-1], y)
    # A ConceptData made by hand goes through the DataModule's checks too.
    data = build(name="xor", size=60)
    data.splits["train"] = Split(data["train"].x, data["train"].c * 7, data["train"].y)
    with pytest.raises(CemError, match=r"^c_train holds 7 "):
        ConceptDataModule(data)


def test_class_count_comes_from_the_metadata_or_the_labels() -> None:
    x, c, y = own_arrays(classes=3)
    data = from_arrays(x, c, y)
    assert data.meta["n_classes"] == 3 and ConceptDataModule(data).n_classes == 3
    built = build(name="dot", size=60)
    built.splits["test"] = Split(built["test"].x, built["test"].c, built["test"].y * 0)
    assert ConceptDataModule(built).n_classes == 2  # never max(y) + 1 of what was seen


def test_plain_npz_and_csv_load_with_their_hash(tmp_path: Path) -> None:
    x, c, y = own_arrays()
    np.savez(tmp_path / "mine.npz", x=x, c=c, y=y)
    data = dio.load(tmp_path / "mine.npz")
    raw = (tmp_path / "mine.npz").read_bytes()
    assert data.source == {
        "path": str((tmp_path / "mine.npz").resolve()),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "format": ".npz",
        "kind": "plain",
    }
    assert data.meta["dataset"] == "mine" and data.meta["feature_names"] == ["x1", "x2", "x3"]
    path = write_csv(tmp_path / "mine.csv", x, c, y)
    from_csv = dio.load(path, PlainColumns(["tall", "heavy"], "sick"))
    assert from_csv.meta["feature_names"] == ["age", "dose", "noise"]
    assert (
        from_csv.meta["concept_names"] == ["tall", "heavy"] and from_csv.meta["task_name"] == "sick"
    )
    for s in SPLITS:  # repr round-trips every float, and both draw the same seeded split
        np.testing.assert_array_equal(from_csv[s].x, data[s].x)
        np.testing.assert_array_equal(from_csv[s].y, data[s].y)
    two = dio.load(path, PlainColumns(["tall", "heavy"], "sick", features=["dose", "age"]))
    np.testing.assert_array_equal(two["train"].x, data["train"].x[:, [1, 0]])
    np.savez(tmp_path / "xor.npz", x=x, c=c, y=y)
    assert dio.load(tmp_path / "xor.npz").meta["dataset"] == "file:xor"  # not the synthetic XOR


def test_import_writes_a_cem_bench_file_with_full_metadata(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x, c, y = own_arrays()
    split = ["train"] * 120 + ["val"] * 30 + ["test"] * 50
    src = write_csv(tmp_path / "patients.csv", x, c, y, split)
    out = tmp_path / "patients.pt"
    argv = ["import", str(src), "--concepts", "tall", "heavy", "--label", "sick", "-o", str(out)]
    assert data_main(argv) == 0
    assert "wrote" in capsys.readouterr().out
    data = dio.load(out)
    assert data.source is not None and data.source["kind"] == "cem-bench"
    meta = data.meta
    assert meta["dataset"] == "patients" and meta["n_classes"] == 2 and meta["split"] == "given"
    assert meta["source"] == {
        "file": "patients.csv",
        "sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
        "kind": "plain",
    }
    assert [len(data[s]) for s in SPLITS] == [120, 30, 50]
    np.testing.assert_array_equal(data["val"].x, x[120:150])


def test_train_on_your_own_arrays_and_csv(tmp_path: Path) -> None:
    x, c, y = own_arrays(classes=3)
    np.savez(tmp_path / "arrays.npz", x=x, c=c, y=y)
    r = run(
        {
            **TINY,
            "dataset": {"path": str(tmp_path / "arrays.npz")},
            "output_dir": str(tmp_path / "a"),
        }
    )
    assert r.module.net.c2y.out_features == 3  # three classes, from the labels
    record = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert record["dataset"] == "arrays" and 0 <= record["metrics"]["test/task_acc"] <= 1
    ds = record["config"]["dataset"]
    assert (ds["fractions"], ds["seed"]) == ([0.7, 0.1, 0.2], 42)  # they drew the split
    assert "protocol" not in ds and "size" not in ds  # generator settings do not apply
    # The recorded config runs again as it is, and refuses a file that has changed since.
    assert run({**record["config"], "output_dir": None}).metrics["test/task_acc"] == pytest.approx(
        record["metrics"]["test/task_acc"]
    )
    np.savez(tmp_path / "arrays.npz", x=x + 1, c=c, y=y)
    with pytest.raises(CemError, match=r"^dataset\.sha256='[0-9a-f]+' does not match"):
        run(record["config"])
    path = write_csv(tmp_path / "t.csv", *own_arrays())
    cfg = {**TINY, "dataset": {"path": str(path), "concepts": ["tall", "heavy"], "label": "sick"}}
    assert run(cfg).config["dataset"]["concepts"] == ["tall", "heavy"]


def test_a_file_is_refused_when_it_claims_more_than_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = dio.save(build(name="trig", size=3000), tmp_path / "t.npz")
    loaded = dio.load(path)
    monkeypatch.setattr(budget, "available_memory", lambda: path.stat().st_size)
    with pytest.raises(CemError, match=r"^input='.*t\.npz' is too large: .* to load"):
        dio.load(path)  # the file's bytes fit, not with the arrays they decompress into
    assert loaded["train"].x.shape == (2100, 7)


@pytest.mark.parametrize("ext", [".pt", ".npz", ".csv"])
def test_generate_is_byte_reproducible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ext: str
) -> None:
    for name in ("a", "b"):
        argv = ["generate", "dot", "--size", "300", "--hidden-concepts", "1", "-o"]
        assert data_main([*argv, str(tmp_path / f"{name}{ext}")]) == 0
    assert (tmp_path / f"a{ext}").read_bytes() == (tmp_path / f"b{ext}").read_bytes()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_write_leaves_no_temporary_file(tmp_path: Path, sig: int) -> None:
    # The writer is slowed down in the child so that the signal lands mid-write. The child
    # takes Ctrl-C as a foreground command does: a suite started in the background (``cmd &``)
    # hands its children SIGINT ignored, and Python then leaves it ignored.
    code = f"""
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
from cem.data import io
from cem.data.cli import main
def slow(data, path):
    path.write_bytes(b"half a file")
    print("writing", flush=True)
    time.sleep(60)
io._WRITERS[".npz"] = slow
sys.exit(main(["generate", "xor", "--size", "100", "-o", r"{tmp_path / "x.npz"}"]))
"""
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    assert [p.name for p in tmp_path.iterdir()]  # the temporary file is there
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == {signal.SIGTERM: 143, signal.SIGINT: 130}[sig], err
    assert err.strip().splitlines()[-1] == "cem-data: interrupted", err
    assert list(tmp_path.iterdir()) == []
