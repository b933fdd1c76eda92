"""Sphinx configuration: numpydoc docstrings, a sphinx-gallery of examples."""

import sklearn_rnn

project = "sklearn-rnn"
author = "the sklearn-rnn developers"
copyright = "2026, the sklearn-rnn developers"
release = sklearn_rnn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# Class pages list their methods through the api page's :members:, so
# numpydoc need not build member tables (which would want autosummary stubs).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # `sphinx-build -D plot_gallery=0` builds the pages without running the
    # examples, as CI does to stay within its time.
    "plot_gallery": "True",
    "download_all_examples": False,
}

exclude_patterns = ["_build"]
html_theme = "pydata_sphinx_theme"
html_title = "sklearn-rnn"
html_theme_options = {"navigation_with_keys": False}
