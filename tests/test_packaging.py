"""Packaging: installed metadata, extras, license and the version flag."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from importlib.metadata import metadata
from pathlib import Path

import pytest

import sparseflow
from sparseflow.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_metadata_declares_license_classifiers_urls_and_extras():
    meta = metadata("sparseflow")
    assert meta["License-Expression"] == "BSD-3-Clause"
    assert any(c.startswith("Topic :: Scientific/Engineering") for c in meta.get_all("Classifier"))
    assert meta.get_all("Project-URL")
    extras = set(meta.get_all("Provides-Extra"))
    assert {"plot", "dask", "sklearn", "pylops", "all", "test", "docs"} <= extras
    assert "BSD 3-Clause" in (ROOT / "LICENSE").read_text()


def test_version_flag(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"sparseflow {sparseflow.__version__}"


@pytest.mark.slow
def test_wheel_builds_with_license_and_entry_point(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
    )
    (wheel,) = tmp_path.glob("sparseflow-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "sparseflow/transforms.py" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "sparseflow = sparseflow.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
