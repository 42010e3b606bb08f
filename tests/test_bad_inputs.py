"""The corpus of bad input: every case fails with one line naming the field or file and what is
allowed, exit status 2, before anything is trained or written.

Each case builds its inputs in a fresh folder (generated here, no committed binaries), runs one
command in-process, and checks: the status, one ``<command>: error: ...`` line on stderr matching
the case's pattern, and that no file under the folder was created, changed or removed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from cem.cli import report_main, train_main
from cem.data import budget, build
from cem.data import io as dio
from cem.data.cli import main as data_main
from cem.data.dataset import SPLITS, ConceptData

Setup = Callable[[Path], list[str]]


@dataclass(frozen=True)
class Case:
    """One bad input: which command, how to build its arguments in a folder, the message."""

    command: str  # cem-data, cem-train or cem-report
    setup: Setup
    message: str  # a regex searched in the one error line, after "<command>: error: "


# ---- inputs -------------------------------------------------------------------------------------


def small() -> ConceptData:
    return build(name="xor", protocol="random", size=60, seed=1)


def arrays_of(data: ConceptData) -> dict[str, np.ndarray]:
    return {f"{a}_{s}": getattr(data[s], a) for s in SPLITS for a in "xcy"}


def raw_npz(path: Path, data: ConceptData, **change: np.ndarray) -> Path:
    """A file in our .npz layout holding whatever arrays it is given (save() would refuse)."""
    arrays = {**arrays_of(data), **change}
    np.savez(path, **arrays, meta=np.array(json.dumps(data.meta)))
    return path


def with_x(value: float) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        data = small()
        x = data["train"].x.copy()
        x[3, 1] = value
        return raw_npz(folder / "bad.npz", data, x_train=x)

    return make


def with_c(value: float) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        data = small()
        c = data["train"].c.astype(float)
        c[2, 0] = value
        return raw_npz(folder / "bad.npz", data, c_train=c)

    return make


def y_nine(folder: Path) -> Path:
    data = small()
    y = data["test"].y.copy()
    y[0] = 9
    return raw_npz(folder / "bad.npz", data, y_test=y)


def empty_train(folder: Path) -> Path:
    data = small()
    tr = data["train"]
    return raw_npz(folder / "bad.npz", data, x_train=tr.x[:0], c_train=tr.c[:0], y_train=tr.y[:0])


def bad_hidden(folder: Path) -> Path:
    data = small()
    data.meta["hidden_concepts"] = [5]
    return raw_npz(folder / "bad.npz", data)


def huge_claim(folder: Path) -> Path:
    """An .npz whose array header claims 16 TB: refused before anything is decompressed."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 2)}
    )
    path = folder / "bad.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x_train.npy", header.getvalue())
    return path


def pickled(folder: Path) -> Path:
    path = folder / "bad.npz"
    np.savez(path, x=np.array([{"a": 1}], dtype=object), c=np.zeros((1, 1)), y=np.zeros(1))
    return path


def nan_pt(folder: Path) -> Path:
    import torch

    data = small()
    obj = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays_of(data).items()}
    obj["x_val"][0, 0] = float("nan")
    obj["meta"] = json.dumps(data.meta)
    torch.save(obj, folder / "bad.pt")
    return folder / "bad.pt"


def nan_csv(folder: Path) -> Path:
    data = small()
    data.splits["test"].x[1, 0] = float("nan")
    with open(folder / "bad.csv", "w", encoding="utf-8", newline="") as f:
        dio.write_csv(data, f)
    return folder / "bad.csv"


def plain(folder: Path, name: str = "mine.npz", **change: object) -> Path:
    """A plain .npz (x, c, y, optional split) of 50 rows, with ``change`` applied."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    c = (x[:, :2] > 0).astype(int)
    arrays: dict[str, object] = {"x": x, "c": c, "y": c[:, 0] ^ c[:, 1], **change}
    np.savez(folder / name, **{k: v for k, v in arrays.items() if v is not None})
    return folder / name


def plain_csv(folder: Path, cell: str = "") -> Path:
    """A plain CSV (features f1 f2, concepts a b, label t); ``cell`` replaces row 3's f1."""
    rng = np.random.default_rng(1)
    with open(folder / "mine.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["f1", "f2", "a", "b", "t"])
        for i in range(40):
            v = rng.normal(size=2)
            a, b = int(v[0] > 0), int(v[1] > 0)
            w.writerow([cell if (cell and i == 2) else v[0], v[1], a, b, a ^ b])
    return folder / "mine.csv"


def good_npz(folder: Path) -> Path:
    return dio.save(small(), folder / "good.npz")


def run_dir(folder: Path) -> Path:
    """A sweep folder with one completed run and a previous report set."""
    sweep = folder / "sweep"
    (sweep / "run").mkdir(parents=True)
    record = {
        "status": "completed",
        "dataset": "xor",
        "model": "cem",
        "seed": 0,
        "metrics": {f"test/{m}": 0.9 for m in ("task_acc", "task_auc", "concept_acc")},
    }
    (sweep / "run" / "metrics.json").write_text(json.dumps(record))
    for name in ("runs.csv", "summary.md", "report.md"):
        (sweep / name).write_text(f"previous {name}\n")
    (sweep / "plots").mkdir()
    (sweep / "plots" / "accuracy.png").write_bytes(b"previous plot")
    return sweep


# ---- the corpus ---------------------------------------------------------------------------------


def d(*args: str) -> Setup:
    return lambda folder: [*args, "-o", str(folder / "out.npz")]


def info(make: Callable[[Path], Path], *extra: str) -> Setup:
    return lambda folder: ["info", str(make(folder)), *extra]


def train(*args: str) -> Setup:
    return lambda folder: list(args)


def train_file(make: Callable[[Path], Path], *extra: str) -> Setup:
    return lambda folder: ["dataset=file", f"dataset.path={make(folder)}", *extra]


def victim(folder: Path) -> Path:
    path = folder / "victim.txt"
    path.write_text("keep me")
    return path


DATA_CASES: dict[str, Case] = {
    "huge size": Case(
        "cem-data",
        d("generate", "xor", "--size", "10000000000"),
        r"^size=10000000000 is too large: .*allowed: a request that fits",
    ),
    "huge lift": Case(
        "cem-data", d("generate", "xor", "--lift-dim", "100000"), r"^lift_dim=100000 is too large"
    ),
    "huge csv": Case(
        "cem-data",
        lambda f: ["generate", "trig", "--size", "1000000", "-o", str(f / "o.csv")],
        r"^size=1000000 is too large: it needs about 1\.6 GB of memory to generate and write as "
        r"\.csv, 1\.1 GB are available",
    ),
    "infinite noise": Case(
        "cem-data",
        d("generate", "xor", "--input-noise", "inf"),
        r"^input_noise=inf is invalid; allowed: a finite number >= 0$",
    ),
    "nan noise": Case(
        "cem-data", d("generate", "dot", "--input-noise", "nan"), r"^input_noise=nan is invalid"
    ),
    "nan concept noise": Case(
        "cem-data", d("generate", "dot", "--concept-noise", "nan"), r"^concept_noise=nan is invalid"
    ),
    "zero fraction": Case(
        "cem-data",
        d("generate", "xor", "--fractions", "1", "0", "0"),
        r"^fractions=\(1\.0, 0\.0, 0\.0\) is invalid; allowed: three numbers in \(0, 1\]",
    ),
    "size below splits": Case(
        "cem-data",
        d("generate", "xor", "--protocol", "random", "--size", "4"),
        r"^size=4 is invalid; allowed: an integer >= 6 \(every split needs a sample",
    ),
    "seed beyond 2**32": Case(
        "cem-data",
        d("generate", "xor", "--seed", "4294967296"),
        r"^seed=4294967296 is invalid; allowed: an integer >= 0 and <= 4294967295",
    ),
    "existing output": Case(
        "cem-data",
        lambda f: ["generate", "xor", "-o", str(good_npz(f))],
        r"^output=.*good\.npz' already exists; use --force",
    ),
    "nan in x": Case(
        "cem-data",
        info(with_x(float("nan"))),
        r"^input='.*bad\.npz': x_train holds NaN or inf \(row 3, column 1\); "
        r"allowed: finite real numbers$",
    ),
    "inf in x": Case("cem-data", info(with_x(float("inf"))), r"x_train holds NaN or inf"),
    "concept 7": Case(
        "cem-data",
        info(with_c(7)),
        r"^input='.*': c_train holds 7\.0 \(row 2, column 0\); allowed: 0 and 1$",
    ),
    "concept 0.5": Case("cem-data", info(with_c(0.5)), r"c_train holds 0\.5 .*allowed: 0 and 1$"),
    "label 9 in a binary task": Case(
        "cem-data", info(y_nine), r"y_test holds the class id 9; allowed: class ids in \[0, 2\)"
    ),
    "empty train split": Case(
        "cem-data", info(empty_train), r"the train split is empty; allowed: at least one sample"
    ),
    "hidden concept out of range": Case(
        "cem-data",
        info(bad_hidden),
        r"metadata hidden_concepts=\[5\] is invalid; allowed: distinct concept indices in 0\.\.1",
    ),
    "file claims 16 TB": Case(
        "cem-data",
        info(huge_claim),
        r"^input='.*bad\.npz' is too large: it needs about 16\.0 TB of memory to load",
    ),
    "pickled array": Case(
        "cem-data",
        info(pickled),
        r"bad\.npz' is not a cem-bench \.npz file: .*Python objects \(refused: pickle\)",
    ),
    "nan in a .pt": Case("cem-data", info(nan_pt), r"^input='.*bad\.pt': x_val holds NaN"),
    "nan in a .csv": Case("cem-data", info(nan_csv), r"^input='.*bad\.csv': x_test holds NaN"),
    "huge plain label": Case(
        "cem-data",
        info(lambda f: plain(f, y=np.r_[np.zeros(49, int), 10**9])),
        r"y holds the class id 1000000000; allowed: class ids in \[0, 1000\)",
    ),
    "negative label": Case(
        "cem-data",
        info(lambda f: plain(f, y=np.r_[np.zeros(49, int), -1])),
        r"y_\w+ holds -1 .*allowed: integer class ids >= 0",
    ),
    "fractional label": Case(
        "cem-data",
        info(lambda f: plain(f, y=np.r_[np.zeros(49), 0.5])),
        r"y_\w+ holds 0\.5 .*allowed: integer class ids",
    ),
    "unknown split name": Case(
        "cem-data",
        info(lambda f: plain(f, split=np.array(["train"] * 48 + ["val", "dev"]))),
        r"split holds 'dev' \(row 49\); allowed: train, val, test",
    ),
    "plain split leaves test empty": Case(
        "cem-data",
        info(lambda f: plain(f, split=np.array(["train"] * 49 + ["val"]))),
        r"the test split is empty",
    ),
    "one-dimensional x": Case(
        "cem-data",
        info(lambda f: plain(f, x=np.zeros(50))),
        r"x has shape \(50,\); allowed: an array of shape \(n, d\)",
    ),
    "extra array": Case(
        "cem-data",
        info(lambda f: plain(f, z=np.zeros(3))),
        r"holds the array 'z'; allowed: x, c, y and split",
    ),
    "csv without column names": Case(
        "cem-data",
        info(plain_csv),
        r"^input='.*mine\.csv': a plain CSV .* needs its concept and label columns named",
    ),
    "csv unknown column": Case(
        "cem-data",
        info(plain_csv, "--concepts", "a", "zz", "--label", "t"),
        r"concepts: column 'zz' is not in the header; allowed: f1, f2, a, b, t",
    ),
    "csv text cell": Case(
        "cem-data",
        info(lambda f: plain_csv(f, "abc"), "--concepts", "a", "b", "--label", "t"),
        r"row 3, column 'f1' holds 'abc'; allowed: a number",
    ),
    "import under a synthetic name": Case(
        "cem-data",
        lambda f: ["import", str(plain(f)), "--name", "xor", "-o", str(f / "o.npz")],
        r"^name='xor' is invalid; allowed: a one-line name",
    ),
    "import of bad values": Case(
        "cem-data",
        lambda f: ["import", str(plain(f, c=np.full((50, 2), 3))), "-o", str(f / "o.npz")],
        r"c_train holds 3 .*allowed: 0 and 1",
    ),
    "import zero fraction": Case(
        "cem-data",
        lambda f: [
            "import",
            str(plain(f)),
            "--fractions",
            "0.5",
            "0.5",
            "0",
            "-o",
            str(f / "o.npz"),
        ],
        r"^fractions=.*is invalid",
    ),
    "plot of your own data": Case(
        "cem-data",
        lambda f: ["plot", str(plain(f)), "-o", str(f / "p.png")],
        r"^dataset='mine' is invalid; allowed: a synthetic dataset \(xor, trig, dot, many\)",
    ),
    "columns of a cem-bench file": Case(
        "cem-data",
        info(good_npz, "--concepts", "a"),
        r"^input='.*good\.npz': concepts, label and features name the columns of a plain CSV",
    ),
    "a seed for a file split already": Case(
        "cem-data",
        info(good_npz, "--seed", "3"),
        r"^--seed split a plain file without a split; input='.*good\.npz' has its split",
    ),
}

TRAIN_CASES: dict[str, Case] = {
    "typo in a key": Case(
        "cem-train",
        train("model.emb_sise=64"),
        r"^model\.emb_sise is not a setting of model; allowed: name, kind, emb_size, ",
    ),
    "typo in an added key": Case(
        "cem-train",
        train("+model.emb_sise=64"),
        r"^model\.emb_sise is unknown; allowed: name, kind, emb_size, ",
    ),
    "negative learning rate": Case(
        "cem-train",
        train("model.optimizer.lr=-1"),
        r"^model\.optimizer\.lr=-1 is invalid; allowed: a finite number > 0$",
    ),
    "bad optimizer value": Case(
        "cem-train",
        train("model.optimizer.weight_decay=-0.5"),
        r"^model\.optimizer=.* is invalid \(Invalid weight_decay value: -0\.5\)",
    ),
    "zero devices": Case(
        "cem-train", train("trainer.devices=0"), r"^trainer\.devices=0 is invalid; allowed: 1"
    ),
    "gpu without cuda": Case(
        "cem-train",
        train("trainer=gpu"),
        r"^trainer\.accelerator='gpu' needs a CUDA GPU.*allowed: cpu",
    ),
    "negative threads": Case(
        "cem-train", train("trainer.num_threads=-1"), r"^trainer\.num_threads=-1 is invalid"
    ),
    "random size below splits": Case(
        "cem-train",
        train("dataset.protocol=random", "dataset.size=4"),
        r"^dataset\.size=4 is invalid; allowed: an integer >= 6",
    ),
    "zero split fraction": Case(
        "cem-train",
        train("dataset.fractions=[0.9,0.1,0]"),
        r"^dataset\.fractions=\[0\.9, 0\.1, 0\] is invalid",
    ),
    "infinite input noise": Case(
        "cem-train",
        train("dataset.input_noise=inf"),
        r"^dataset\.input_noise=inf is invalid; allowed: a finite number",
    ),
    "huge dataset": Case(
        "cem-train", train("dataset.size=10000000000"), r"^dataset\.size=10000000000 is too large"
    ),
    "negative seed": Case("cem-train", train("seed=-1"), r"^seed=-1 is invalid"),
    "zero random orders": Case(
        "cem-train", train("evaluation.random_orders=0"), r"^evaluation\.random_orders=0 is invalid"
    ),
    "groups beyond k": Case(
        "cem-train",
        train("evaluation.groups=[[0],[5]]"),
        r"^evaluation\.groups=\[\[0\], \[5\]\] is invalid; "
        r"allowed: a partition of the concepts 0\.\.1",
    ),
    "optimizer not allowed": Case(
        "cem-train",
        train("model.optimizer._target_=builtins.open"),
        r"^model\.optimizer\._target_='builtins\.open' is unknown; allowed: torch\.optim\.ASGD",
    ),
    "scheduler not allowed": Case(
        "cem-train",
        train("model.scheduler._target_=torch.optim.lr_scheduler.LambdaLR"),
        r"^model\.scheduler\._target_='torch\.optim\.lr_scheduler\.LambdaLR' is unknown",
    ),
    "scheduler keyword of another class": Case(
        "cem-train",
        train("+model.scheduler.step_size=3"),
        r"^model\.scheduler\.step_size is unknown; allowed: _target_, _partial_, and the "
        r"keywords of torch\.optim\.lr_scheduler\.ReduceLROnPlateau",
    ),
    "nested target under the optimizer": Case(
        "cem-train",
        lambda f: [
            "+model.optimizer.foo._target_=builtins.open",
            f"+model.optimizer.foo.file={victim(f)}",
            "+model.optimizer.foo.mode=w",
        ],
        r"^model\.optimizer\.foo is unknown",
    ),
    "target as a keyword value": Case(
        "cem-train",
        lambda f: [f"model.optimizer.lr={{_target_:builtins.open,file:{victim(f).name},mode:w}}"],
        r"^model\.optimizer\.lr=\{'_target_': 'builtins\.open'.* allowed: a number, boolean, "
        r"string, null or a flat list \(no nested configs\)",
    ),
    "target in the extractor": Case(
        "cem-train",
        train("+model.extractor._target_=builtins.print"),
        r"^model\.extractor\._target_ is unknown; allowed: hidden, activation, out$",
    ),
    "target at the top": Case(
        "cem-train", train("+_target_=builtins.print"), r"^config key '_target_' is unknown"
    ),
    "file with nan": Case(
        "cem-train",
        train_file(with_x(float("nan"))),
        r"^input='.*bad\.npz': x_train holds NaN or inf",
    ),
    "file with label 9": Case(
        "cem-train",
        train_file(y_nine),
        r"y_test holds the class id 9; allowed: class ids in \[0, 2\)",
    ),
    "file with an empty split": Case(
        "cem-train", train_file(empty_train), r"the train split is empty"
    ),
    "plain csv without columns": Case(
        "cem-train",
        train_file(plain_csv),
        r"needs its concept and label columns named; allowed: cem-train dataset\.concepts",
    ),
    "generator setting on a file": Case(
        "cem-train",
        train_file(good_npz, "dataset.size=500"),
        r"^dataset\.size=500 does not apply to a dataset file .*allowed: 3000, the default$",
    ),
    "csv columns without a file": Case(
        "cem-train",
        train("dataset.concepts=[a]"),
        r"^dataset\.concepts applies to dataset files only",
    ),
}

REPORT_CASES: dict[str, Case] = {
    "missing folder": Case("cem-report", lambda f: [str(f / "nope")], r"does not exist"),
    "a file, not a folder": Case("cem-report", lambda f: [str(good_npz(f))], r"is not a directory"),
    "no runs": Case("cem-report", lambda f: [str(f)], r"holds no cem-train runs"),
    "output is a file": Case(
        "cem-report",
        lambda f: [str(run_dir(f)), "--out", str(good_npz(f))],
        r"^--out=.*cannot be created",
    ),
    "unknown option": Case(
        "cem-report", lambda f: [str(run_dir(f)), "--bogus"], r"^unrecognized arguments: --bogus"
    ),
}

CASES = {**DATA_CASES, **TRAIN_CASES, **REPORT_CASES}
MAINS = {"cem-data": data_main, "cem-train": train_main, "cem-report": report_main}


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` (hidden ones too) with a digest of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else "/"
        for p in sorted(folder.rglob("*"))
    }


def assert_one_line_and_nothing_written(
    case: Case, folder: Path, capsys: pytest.CaptureFixture[str], call: Callable[[], int]
) -> str:
    before = snapshot(folder)
    code = call()
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert code == 2, (code, err)
    assert out == "", out
    assert len(lines) == 1 and lines[0].startswith(f"{case.command}: error: "), err
    assert "Traceback" not in err
    message = lines[0][len(f"{case.command}: error: ") :]
    assert re.search(case.message, message), message
    assert snapshot(folder) == before  # nothing created, changed or removed
    return message


def test_the_corpus_is_large_and_spans_the_commands() -> None:
    assert len(CASES) >= 40
    assert {c.command for c in CASES.values()} == set(MAINS)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(
    name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = CASES[name]
    monkeypatch.chdir(tmp_path)  # cem-train would write outputs/ here
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # "a machine without CUDA"
    monkeypatch.setattr(budget, "available_memory", lambda: 2**30)  # the same on every machine
    argv = case.setup(tmp_path)
    assert_one_line_and_nothing_written(case, tmp_path, capsys, lambda: MAINS[case.command](argv))
    if (tmp_path / "victim.txt").exists():
        assert (tmp_path / "victim.txt").read_text() == "keep me"  # no config ran code


# ---- cem-report: what fails while writing leaves the previous set whole --------------------------


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (PermissionError(13, "Permission denied"), r"cannot be written \(Permission denied\)"),
        (OSError(28, "No space left on device"), r"cannot be written \(No space left on device\)"),
        (ValueError("a plot went wrong"), r"could not be made \(ValueError: a plot went wrong\)"),
    ],
)
def test_report_failure_leaves_the_previous_set_whole(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
    message: str,
) -> None:
    from cem.report import document

    sweep = run_dir(tmp_path)

    def write_report(rows: list, out: Path) -> Path:  # half a report, then the failure
        (out / "report.md").write_text("half")
        (out / "plots").mkdir()
        (out / "plots" / "new.png").write_bytes(b"half")
        raise failure

    monkeypatch.setattr(document, "write_report", write_report)
    case = Case("cem-report", lambda f: [str(sweep)], message)
    assert_one_line_and_nothing_written(case, tmp_path, capsys, lambda: report_main([str(sweep)]))
    assert (sweep / "report.md").read_text() == "previous report.md\n"


def test_read_only_output_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # chmod cannot make a folder read-only for root (CI containers): the refusal is simulated
    # where the first file would be created.
    import tempfile

    from cem.report import publish

    sweep = run_dir(tmp_path)

    def refuse(*args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(publish.tempfile, "mkdtemp", refuse)
    assert tempfile.mkdtemp is refuse
    case = Case("cem-report", lambda f: [str(sweep)], r"cannot be written \(Permission denied\)")
    assert_one_line_and_nothing_written(case, tmp_path, capsys, lambda: report_main([str(sweep)]))
