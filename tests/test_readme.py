"""The README's commands, run at reduced size, so the docs cannot drift from the code."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # subprocesses of the real commands (still run in CI)

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent
# Appended to every cem-train command: Hydra lets later overrides win.
SHRINK = [
    "trainer.max_epochs=1",
    "trainer.check_val_every_n_epoch=1",
    "dataset.protocol=random",
    "dataset.size=150",
    "model.emb_size=2",
    "model.extractor.hidden=[8]",
    "model.extractor.out=8",
    "evaluation.alignment=false",
    "evaluation.impurity=false",
    "evaluation.policies=[uncertainty]",
    "trainer.progress=none",
]


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_the_two_commands_are_there_and_ci_runs_the_test_one() -> None:
    main, tests = blocks("bash")[:2]
    assert "cem-train -m experiment=quick hydra/launcher=joblib" in main and "cem-report" in main
    assert "pip install -q -c constraints.txt ." in main
    assert ". .venv/bin/activate &&" in main  # cem-data & co. are on PATH afterwards
    assert "hydra.sweep.dir=outputs/" in main and "cem-report outputs/" in main
    assert "pytest" in tests
    assert tests.strip() in (ROOT / ".ci" / "run").read_text()


def own_data(tmp_path: Path) -> None:
    """Run the README's snippet that writes your own arrays (outputs/data/mine.npz, mine.csv)
    in tmp_path."""
    snippet = next(b for b in blocks("python") if "mine.npz" in b and "np.savez" in b)
    subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, check=True, timeout=120)


def cli(line: str) -> list[str]:
    words = shlex.split(line.split("  #")[0].replace("$PWD/", ""))
    return [str(BIN / words[0]), *words[1:]]


def test_main_job_runs_at_reduced_size(tmp_path: Path) -> None:
    main = blocks("bash")[0]
    train = re.search(r"(cem-train [^&]+)", main).group(1).strip()
    report = re.search(r"(cem-report \S+)", main).group(1)
    # The quick preset sweeps 3 datasets x 9 models; keep the 3 datasets, 2 models.
    extra = ["hydra.sweeper.params.model='cem,cbm_sigmoid'"]
    proc = subprocess.run(
        [*cli(train), *SHRINK, *extra], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = subprocess.run(cli(report), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    for dataset in ("xor", "trig", "dot"):
        assert f"| {dataset} | cem | 1 |" in out.stdout
    assert (tmp_path / "outputs" / "quick" / "report.md").exists()


@pytest.mark.parametrize(
    "line",
    [
        line
        for block in blocks("bash")[2:]
        for line in block.splitlines()
        if line.startswith("cem-data ")
    ],
)
def test_documented_cem_data_commands(line: str, tmp_path: Path) -> None:
    (tmp_path / "outputs" / "data").mkdir(parents=True)  # the block's mkdir -p
    # The generate lines write the files that the info/plot lines read, in README order; the
    # own-data snippet writes the plain files.
    if "mine." in line:
        own_data(tmp_path)
    for earlier in [
        x for b in blocks("bash")[2:] for x in b.splitlines() if x.startswith("cem-data generate")
    ]:
        if earlier == line:
            break
        subprocess.run(cli(earlier), cwd=tmp_path, check=True, capture_output=True)
    proc = subprocess.run(cli(line), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    "line",
    [
        line
        for block in blocks("bash")[2:]
        for line in block.splitlines()
        if line.startswith("cem-train ") and "experiment=" not in line
    ],
)
def test_documented_cem_train_commands(line: str, tmp_path: Path) -> None:
    if "dataset=file" in line:
        (tmp_path / "outputs" / "data").mkdir(parents=True)
        subprocess.run(
            cli("cem-data generate trig --protocol paper -o outputs/data/trig.npz"),
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )
        own_data(tmp_path)
        import_line = next(
            x for b in blocks("bash") for x in b.splitlines() if x.startswith("cem-data import")
        )
        subprocess.run(cli(import_line), cwd=tmp_path, check=True, capture_output=True)
        line = line.replace("$PWD/", f"{tmp_path}/")
    args = cli(line)
    shrink = [s for s in SHRINK if not (s.startswith("dataset.") and "dataset=file" in line)]
    if "-m" in args:
        shrink = [*shrink, "hydra.launcher.n_jobs=2"] if "joblib" in line else shrink
    proc = subprocess.run(
        [*args, *shrink], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert list(tmp_path.rglob("metrics.json"))


def test_documented_errors_are_the_real_ones(tmp_path: Path) -> None:
    text = "\n".join(b for b in blocks("text") if "cem-train: error" in b)
    pairs = re.findall(r"^\$ (cem-train .*)\n(cem-train: error: .*)$", text, flags=re.M)
    assert len(pairs) >= 5
    for command, error in pairs:
        proc = subprocess.run(cli(command), cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 2 and proc.stderr.strip() == error


def test_python_snippets_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the snippets write under outputs/
    namespace: dict = {}
    snippets = blocks("python")
    assert len(snippets) >= 2 and any("load_run" in b for b in snippets)
    for block in snippets:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's code
        for line in block.splitlines():
            if line.rstrip().endswith("# True"):  # a documented claim: it must hold
                assert eval(line.split("#")[0], namespace) is True, line  # noqa: S307
    assert (tmp_path / "outputs" / "runs" / "python_cem" / "last.ckpt").exists()
