"""Ready to publish (issue 15): a clean tree builds an sdist and a wheel that pass
`twine check`, and the wheel, installed in a new venv, answers `followup-cal --help`."""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LEFT_OUT = (".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".ruff_cache",
            ".hypothesis")


def clean_copy(dest: Path) -> None:
    """What a fresh clone holds: the files git tracks (and new ones it does not ignore)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True)
    if listed.returncode == 0 and listed.stdout:
        for name in filter(None, listed.stdout.decode().split("\0")):
            src = ROOT / name
            if src.is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / name)
    else:  # not a git checkout (an unpacked sdist, say)
        shutil.copytree(ROOT, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
            *LEFT_OUT, "*.egg-info"))


def run(*args, cwd: Path, timeout: float = 120, env=None) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert proc.returncode == 0, f"{args}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("clone")
    clean_copy(tree)
    assert not any(tree.glob("*.egg-info"))
    # an isolated build: setuptools comes from the index, as on any clean machine
    run(sys.executable, "-m", "build", "--outdir", "dist", ".", cwd=tree, timeout=180)
    return tree / "dist"


def test_sdist_and_wheel_pass_twine_check(dist):
    built = sorted(p.name for p in dist.iterdir())
    assert len(built) == 2 and built[0].endswith(".whl") and built[1].endswith(".tar.gz")
    out = run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()),
              cwd=dist).stdout
    assert out.count("PASSED") == 2, out


def test_wheel_metadata_and_files(dist):
    wheel = next(dist.glob("*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_bytes(z.read(info))
    modules = {f"followup_cal/{p.name}" for p in (ROOT / "followup_cal").glob("*.py")}
    assert modules <= names  # every module, views.py (with the page's CSS inside) too
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert meta["License-Expression"] == "MIT"
    assert meta["License-File"] == "LICENSE"
    assert not [c for c in meta.get_all("Classifier") if c.startswith("License ::")]
    assert "Topic :: Office/Business :: Scheduling" in meta.get_all("Classifier")
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert set(urls) >= {"Homepage", "Issues", "Documentation"}
    assert meta["Keywords"] and meta["Description-Content-Type"] == "text/markdown"


def test_wheel_installs_in_a_new_venv_and_answers_help(dist, tmp_path):
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
        next(dist.glob("*.whl")), cwd=tmp_path)
    # the dependencies: this test environment's, not a second download of all of them
    # (`.ci/run` installs them from the index); the package itself only from the wheel
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
               cwd=tmp_path).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "test-deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = run(python, "-c", "import followup_cal; print(followup_cal.__file__)", cwd=tmp_path,
                env=env).stdout
    assert Path(where.strip()).is_relative_to(venv)
    out = run(bindir / "followup-cal", "--help", cwd=tmp_path, env=env).stdout
    assert "Usage: followup-cal" in out and "status" in out and "export" in out
    # shell completion, as the README sets it up
    script = run(bindir / "followup-cal", cwd=tmp_path,
                 env={**env, "_FOLLOWUP_CAL_COMPLETE": "bash_source"}).stdout
    assert "_followup_cal_completion" in script
    words = run(bindir / "followup-cal", cwd=tmp_path, env={
        **env, "_FOLLOWUP_CAL_COMPLETE": "bash_complete", "COMP_WORDS": "followup-cal sta",
        "COMP_CWORD": "1"}).stdout
    assert "plain,status" in words.splitlines()  # bash_complete: type,value per line
    page = run(bindir / "followup-cal", "status", "--html", "-", "--timezone", "UTC",
               cwd=tmp_path, env={**env, "FOLLOWUP_CAL_HOME": str(tmp_path / "home")}).stdout
    assert page.startswith("<!DOCTYPE html>") and "No applications seen yet" in page
