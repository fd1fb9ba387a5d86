# Sphinx configuration of the docs site where Quarto is not installed (scripts/build-docs writes the
# source folder _book/ from the notebooks, then runs sphinx-build with this folder as its configuration).
import tomllib
from pathlib import Path

_pp = tomllib.loads((Path(__file__).resolve().parents[1]/'pyproject.toml').read_text())
project = _pp['tool']['nbdev'].get('title', _pp['project']['name'])
html_title = project
author = _pp['project']['authors'][0]['name']

extensions = ['myst_nb']
nb_execution_mode = 'off'                  # the outputs stored in the notebooks (scripts/execute-notebooks)
nb_merge_streams = True
myst_enable_extensions = ['attrs_inline', 'deflist']
myst_heading_anchors = 4                   # `#name` anchors as Quarto makes them, for links into a page
exclude_patterns = ['_build', '**.ipynb_checkpoints']
suppress_warnings = ['myst.header', 'myst.xref_missing', 'misc.highlighting_failure', 'mystnb.unknown_mime_type']

html_theme = 'sphinx_book_theme'
html_theme_options = {'home_page_in_toc': True, 'show_toc_level': 2, 'navigation_with_keys': False}
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
