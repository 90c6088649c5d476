"""A PEP 517 build backend for this package, in the standard library only.

It lets ``pip install ./clients/python`` work with no package index: pip
needs nothing to download to build the wheel (the build requires nothing),
so an offline machine, or a fresh virtual environment without setuptools
or wheel, installs the package as it is. It builds a pure-Python wheel of
``src/eventgate``, a source archive, and an editable install (PEP 660).
The metadata comes from the [project] table of pyproject.toml.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PACKAGE = "eventgate"


def _project() -> Dict[str, str]:
    """name, version, description, requires-python and license from pyproject.toml."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    m = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    if not m:
        raise RuntimeError("pyproject.toml has no [project] table")
    out = {}
    for key in ("name", "version", "description", "requires-python"):
        km = re.search(rf'^{re.escape(key)}\s*=\s*"([^"]*)"', m.group(1), re.M)
        if km:
            out[key] = km.group(1)
    lm = re.search(r'^license\s*=\s*\{\s*text\s*=\s*"([^"]*)"', m.group(1), re.M)
    if lm:
        out["license"] = lm.group(1)
    return out


def _metadata() -> str:
    p = _project()
    lines = ["Metadata-Version: 2.1", f"Name: {p['name']}", f"Version: {p['version']}"]
    if p.get("description"):
        lines.append(f"Summary: {p['description']}")
    if p.get("license"):
        lines.append(f"License: {p['license']}")
    if p.get("requires-python"):
        lines.append(f"Requires-Python: {p['requires-python']}")
    lines += ["Classifier: Programming Language :: Python :: 3", "Classifier: Typing :: Typed"]
    readme = ROOT / "README.md"
    if readme.exists():
        lines.append("Description-Content-Type: text/markdown")
        return "\n".join(lines) + "\n\n" + readme.read_text(encoding="utf-8")
    return "\n".join(lines) + "\n"


def _dist_name() -> Tuple[str, str]:
    p = _project()
    return re.sub(r"[-_.]+", "_", p["name"]).lower(), p["version"]


def _package_files() -> List[Path]:
    files = []
    for f in sorted((SRC / PACKAGE).rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts and f.suffix not in (".pyc", ".pyo"):
            files.append(f)
    return files


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"{arcname},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory: str, entries: List[Tuple[str, bytes]], tag: str = "py3-none-any") -> str:
    name, version = _dist_name()
    info = f"{name}-{version}.dist-info"
    entries = list(entries) + [
        (f"{info}/METADATA", _metadata().encode("utf-8")),
        (f"{info}/WHEEL", (f"Wheel-Version: 1.0\nGenerator: eventgate_build\nRoot-Is-Purelib: true\nTag: {tag}\n").encode()),
        (f"{info}/top_level.txt", f"{PACKAGE}\n".encode()),
    ]
    record = [_record_line(a, d) for a, d in entries] + [f"{info}/RECORD,,"]
    entries.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    filename = f"{name}-{version}-{tag}.whl"
    stamp = time.gmtime(int(os.environ.get("SOURCE_DATE_EPOCH", "315532800")))[:6]
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as z:
        for arcname, data in entries:
            zi = zipfile.ZipInfo(arcname, date_time=stamp)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return filename


# -- PEP 517 -----------------------------------------------------------------

def get_requires_for_build_wheel(config_settings: Optional[dict] = None) -> List[str]:
    """Nothing: the backend uses only the standard library."""
    return []


def get_requires_for_build_sdist(config_settings: Optional[dict] = None) -> List[str]:
    """Nothing: the backend uses only the standard library."""
    return []


def get_requires_for_build_editable(config_settings: Optional[dict] = None) -> List[str]:
    """Nothing: the backend uses only the standard library."""
    return []


def build_wheel(wheel_directory: str, config_settings: Optional[dict] = None,
                metadata_directory: Optional[str] = None) -> str:
    """Build the pure-Python wheel of src/eventgate into wheel_directory."""
    entries = [(f.relative_to(SRC).as_posix(), f.read_bytes()) for f in _package_files()]
    return _write_wheel(wheel_directory, entries)


def build_editable(wheel_directory: str, config_settings: Optional[dict] = None,
                   metadata_directory: Optional[str] = None) -> str:
    """Build a wheel that puts src/ on sys.path (pip install -e)."""
    name, _ = _dist_name()
    return _write_wheel(wheel_directory, [(f"__editable__.{name}.pth", (str(SRC) + "\n").encode())])


def build_sdist(sdist_directory: str, config_settings: Optional[dict] = None) -> str:
    """Build a source archive holding what the wheel is built from."""
    name, version = _dist_name()
    base = f"{name}-{version}"
    filename = f"{base}.tar.gz"
    paths = [ROOT / "pyproject.toml", ROOT / "README.md", Path(__file__).resolve()] + _package_files()
    for sub in ("examples", "tests"):
        paths += [f for f in sorted((ROOT / sub).rglob("*.py")) if "__pycache__" not in f.parts]
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as tf:
        def add(arcname: str, data: bytes) -> None:
            ti = tarfile.TarInfo(f"{base}/{arcname}")
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 315532800
            tf.addfile(ti, io.BytesIO(data))
        for p in paths:
            if p.exists():
                add(p.relative_to(ROOT).as_posix(), p.read_bytes())
        add("PKG-INFO", _metadata().encode("utf-8"))
    return filename
