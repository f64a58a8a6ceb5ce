"""Sphinx configuration of the sparseflow user guide (`make docs`)."""

from __future__ import annotations

from importlib.metadata import version as _version

project = "sparseflow"
author = "sparseflow developers"
copyright = "2026, sparseflow developers"
release = _version("sparseflow")
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
]
autosummary_generate = True
autodoc_default_options: dict[str, object] = {}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
intersphinx_mapping: dict[str, tuple[str, None]] = {}
templates_path: list[str] = []
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_title = f"sparseflow {release}"
html_static_path: list[str] = []
nitpicky = False
