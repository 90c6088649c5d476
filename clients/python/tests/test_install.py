"""`pip install ./clients/python` into a fresh virtual environment, offline."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
PKG = HERE.parent


def test_pip_install_in_a_fresh_venv(tmp_path: Path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    # The plain command, as a user types it. The build backend is in the
    # package and needs nothing from an index, so this works offline.
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(PKG)],
                   check=True, timeout=300, cwd=tmp_path)
    out = subprocess.run([str(py), "-c",
                          "import eventgate, os, pathlib; "
                          "p = pathlib.Path(eventgate.__file__).parent; "
                          "print(eventgate.__version__, (p / 'py.typed').exists(), p)"],
                         check=True, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    version, typed, where = out.stdout.split()
    assert version == "0.1.0" and typed == "True"
    assert Path(where).is_relative_to(env_dir), "imported from the venv, not the source tree"
