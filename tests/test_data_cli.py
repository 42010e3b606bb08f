"""cem-data: every command in-process (fast), one run of the installed entry point, start-up."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cem.data import SPECS, build, paper
from cem.data.cli import main
from cem.data.io import load


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_error(capsys: pytest.CaptureFixture[str], field: str, *argv: str) -> str:
    """Exit 2, nothing on stdout, exactly one stderr line ``cem-data: error: ...`` naming field."""
    code, out, err = run(capsys, *argv)
    assert code == 2, (argv, out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cem-data: error: "), err
    assert field in lines[0], (field, lines[0])
    return lines[0]


# ---- list / info ------------------------------------------------------------------------------


def test_list_shows_names_formulas_and_ceilings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "list")
    assert code == 0 and err == ""
    rows = {line.split()[0]: line for line in out.splitlines()[1:4]}
    assert set(rows) == {"xor", "trig", "dot"}
    assert "100.0%" in rows["xor"] and "81.8%" in rows["trig"] and "76.8%" in rows["dot"]
    assert "y = 1[v1·v2 > 0]" in rows["dot"]


def test_info_name_prints_the_card(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "info", "trig")
    assert code == 0
    assert out.startswith("# Trigonometry") and "81.83%" in out and "## Checksums" in out


def test_info_file_prints_meta_and_shapes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "d.csv"
    assert (
        run(capsys, "generate", "dot", "--protocol", "random", "--size", "200", "-o", str(path))[0]
        == 0
    )
    code, out, _ = run(capsys, "info", str(path))
    assert code == 0
    assert '"dataset": "dot"' in out and '"protocol": "random"' in out
    assert "train  x (140, 4) float64  c (140, 2) int64  y (140,) int64" in out
    assert "concept-only ceiling" in out


# ---- generate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".npz", ".csv", ".pt"])
def test_generate_paper_in_every_format(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, ext: str
) -> None:
    path = tmp_path / f"xor{ext}"
    code, out, err = run(capsys, "generate", "xor", "-o", str(path))
    assert code == 0 and err == ""
    assert f"wrote {path}" in out and "train  x (2100, 2) float64" in out
    loaded, ref = load(path), paper("xor")  # the CLI's default protocol is the paper's
    for s in ("train", "val", "test"):
        assert loaded[s].x.tobytes() == ref[s].x.tobytes()
        assert loaded[s].y.tobytes() == ref[s].y.tobytes()


def test_generate_passes_every_option_to_build(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "t.npz"
    argv = [
        "generate", "trig", "--protocol", "random", "--size", "500", "--seed", "7",
        "--fractions", "0.6", "0.2", "0.2", "--input-noise", "0.1",
        "--concept-noise", "0.1", "0", "0.2", "--task-noise", "0.05",
        "--label-noise-splits", "train", "val", "--hidden-concepts", "1",
        "--lift-dim", "9", "--lift-seed", "3", "-o", str(path),
    ]  # fmt: skip
    assert run(capsys, *argv)[0] == 0
    want = build(
        name="trig",
        protocol="random",
        size=500,
        seed=7,
        fractions=(0.6, 0.2, 0.2),
        input_noise=0.1,
        concept_noise=[0.1, 0.0, 0.2],
        task_noise=0.05,
        label_noise_splits=("train", "val"),
        hidden_concepts=[1],
        lift_dim=9,
        lift_seed=3,
    )
    got = load(path)
    for s in ("train", "val", "test"):
        np.testing.assert_array_equal(got[s].x, want[s].x)
        np.testing.assert_array_equal(got[s].c, want[s].c)
        np.testing.assert_array_equal(got[s].y, want[s].y)
    assert got.meta["hidden_concepts"] == [1] and got.meta["lift_dim"] == 9


def test_generate_seed_is_honoured(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for seed in ("1", "2"):
        run(capsys, "generate", "dot", "--seed", seed, "-o", str(tmp_path / f"{seed}.npz"))
    a, b = load(tmp_path / "1.npz"), load(tmp_path / "2.npz")
    assert not np.array_equal(a["train"].x, b["train"].x)
    assert a.meta["seed"] == 1 and b.meta["seed"] == 2


def test_force_replaces(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    assert run(capsys, "generate", "xor", "-o", str(path))[0] == 0
    assert_error(capsys, "output=", "generate", "dot", "-o", str(path))
    assert load(path).meta["dataset"] == "xor"
    assert run(capsys, "generate", "dot", "-o", str(path), "--force")[0] == 0
    assert load(path).meta["dataset"] == "dot"


# ---- bad input: exit 2, one line, the field named ---------------------------------------------


@pytest.mark.parametrize(
    ("field", "args"),
    [
        ("dataset=", ["xr"]),
        ("protocol=", ["xor", "--protocol", "papr"]),
        ("size=", ["xor", "--size", "0"]),
        ("size=", ["xor", "--size", "-5"]),
        ("--size", ["xor", "--size", "ten"]),
        ("fractions=", ["xor", "--fractions", "0.5", "0.5", "0.5"]),
        ("--fractions", ["xor", "--fractions", "0.5", "0.5"]),
        ("seed=", ["xor", "--seed", "-1"]),
        ("input_noise=", ["xor", "--input-noise", "-1"]),
        ("concept_noise=", ["xor", "--concept-noise", "1.5"]),
        ("concept_noise=", ["xor", "--concept-noise", "0.1", "0.1", "0.1"]),
        ("task_noise=", ["xor", "--task-noise", "-0.2"]),
        ("label_noise_splits=", ["xor", "--label-noise-splits", "dev"]),
        ("hidden_concepts=", ["xor", "--hidden-concepts", "5"]),
        ("lift_dim=", ["trig", "--lift-dim", "3"]),
    ],
)
def test_generate_bad_values(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, field: str, args: list[str]
) -> None:
    out = tmp_path / "x.npz"
    assert_error(capsys, field, "generate", *args, "-o", str(out))
    assert not out.exists()


def test_bad_paths_and_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert_error(capsys, "extension='.txt'", "generate", "xor", "-o", str(tmp_path / "x.txt"))
    assert_error(capsys, "output=", "generate", "xor", "-o", str(tmp_path / "no" / "x.npz"))
    assert_error(capsys, "--output", "generate", "xor")
    assert_error(capsys, "input=", "info", str(tmp_path / "missing.npz"))
    (tmp_path / "junk.npz").write_text("not an archive")
    assert_error(capsys, "input=", "info", str(tmp_path / "junk.npz"))
    (tmp_path / "junk.csv").write_text("a,b\n1,2\n")  # read as a plain CSV: columns unnamed
    assert_error(
        capsys, "needs its concept and label columns named", "info", str(tmp_path / "junk.csv")
    )
    assert_error(capsys, "dataset='nope'", "info", "nope")
    assert_error(capsys, "extension=", "plot", "xor", "-o", str(tmp_path / "x.jpg"))
    assert_error(capsys, "COMMAND", "frobnicate")
    assert_error(capsys, "COMMAND")


def test_help_everywhere_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in ([], ["list"], ["info"], ["generate"], ["plot"], ["cards"]):
        code, out, _ = run(capsys, *cmd, "--help")
        assert code == 0 and "usage: cem-data" in out and "examples:" in out, cmd


# ---- plot and cards ---------------------------------------------------------------------------


def test_plot_name_and_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png = tmp_path / "x.png"
    code, out, _ = run(
        capsys, "plot", "xor", "--protocol", "random", "--size", "300", "-o", str(png)
    )
    assert code == 0 and f"wrote {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = tmp_path / "d.npz"
    run(capsys, "generate", "dot", "--size", "300", "-o", str(saved))
    assert run(capsys, "plot", str(saved), "--split", "test", "-o", str(tmp_path / "d.svg"))[0] == 0
    assert b"<svg" in (tmp_path / "d.svg").read_bytes()[:500]
    assert_error(capsys, "--seed", "plot", str(saved), "--seed", "3", "-o", str(tmp_path / "e.png"))
    assert_error(capsys, "output=", "plot", "xor", "-o", str(png))  # exists, no --force


def test_cards_write(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "cards", "--write", "--dir", str(tmp_path))
    assert code == 0 and out.count("wrote") == 2 * len(SPECS) + 1  # cards, samples, checksums
    assert (tmp_path / "dot.md").read_text().startswith("# Dot")
    assert_error(capsys, "dir=", "cards", "--write", "--dir", str(tmp_path / "missing"))
    code, out, _ = run(capsys, "cards")
    assert code == 0 and out.count("## Checksums") == len(SPECS)


# ---- the installed entry point and start-up cost ----------------------------------------------


def _entry_point() -> str | None:
    local = Path(sys.executable).parent / "cem-data"
    return str(local) if local.exists() else shutil.which("cem-data")


@pytest.mark.skipif(_entry_point() is None, reason="cem-data is not installed (pip install -e .)")
def test_installed_entry_point(tmp_path: Path) -> None:
    exe = _entry_point()
    assert exe is not None
    ok = subprocess.run(
        [exe, "generate", "trig", "-o", str(tmp_path / "t.csv")], capture_output=True, text=True
    )
    assert ok.returncode == 0 and "wrote" in ok.stdout
    bad = subprocess.run([exe, "info", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("cem-data: error: dataset=")


def test_light_commands_import_neither_torch_nor_matplotlib(tmp_path: Path) -> None:
    code = f"""
import sys
from cem.data.cli import main
assert main(["list"]) == 0
assert main(["generate", "xor", "-o", r"{tmp_path / "x.npz"}"]) == 0
assert main(["generate", "xor", "-o", r"{tmp_path / "x.csv"}"]) == 0
assert main(["info", r"{tmp_path / "x.csv"}"]) == 0
assert main(["info", "dot"]) == 0
heavy = ("torch", "lightning", "pytorch_lightning", "matplotlib")
heavy = sorted(m for m in heavy if m in sys.modules)
print("HEAVY", heavy)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "HEAVY []" in res.stdout
