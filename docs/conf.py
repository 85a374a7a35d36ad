"""Sphinx configuration of the evosim documentation (``make docs``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
# Importing evosim.render (autodoc) loads pygame: no window, no sound.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from evosim import __version__  # noqa: E402

project = "evosim"
author = "the evosim authors"
copyright = "the evosim authors, MIT licence"
release = __version__
version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinxarg.ext",
    "evosim_docs",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence", "deflist", "substitution"]


def _story_numbers() -> dict[str, str]:
    """The story detector's thresholds, for {{NAME}} in the pages: read from the code."""
    from evosim.analysis import story

    out = {}
    for name in dir(story):
        value = getattr(story, name)
        if not name.isupper() or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        out[name] = f"{value:,}" if isinstance(value, int) else f"{value:g}"
        if isinstance(value, float) and value < 1:
            out[f"{name}_PCT"] = f"{100 * value:g}%"
    return out


myst_substitutions = _story_numbers()
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"evosim {__version__}"
html_static_path: list[str] = []

autodoc_member_order = "bysource"
autodoc_typehints = "description"
# Members are listed per directive; a class's signature is its __init__'s, shown only
# where the page asks for it (a pydantic model's is every field, listed in the
# scenario reference instead).
autodoc_default_options: dict[str, bool] = {}
autodoc_class_signature = "separated"
# Gymnasium's and PettingZoo's base-class docstrings are theirs (Google style, their
# own cross-references): a method without its own docstring shows none.
autodoc_inherit_docstrings = False

# Nitpicky (-n): every cross-reference must resolve. Third-party types have no
# inventory here (the build runs offline), so their names are listed instead.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(np|numpy|npt|torch|nn|gymnasium|pettingzoo|pygame|pydantic|ray|matplotlib)"
               r"(\..*)?"),
    (r"py:class", r"(Path|pathlib\.Path|TextIO|typing\..*|collections\.abc\..*|Any|Callable"
                  r"|Sequence|Iterator|Iterable|Mapping|ArrayLike|NDArray|ndarray|Module"
                  r"|AbstractContextManager|contextlib\..*|argparse\..*|Surface|Tensor)"),
    (r"py:class", r"(optional|default .*)"),
    # Gymnasium's attributes of every env (documented by Gymnasium) and type aliases.
    (r"py:attr", r"(np_random_seed|np_random|observation_space|action_space|render_mode)"),
    (r"py:class", r"(WriterFactory|Listener)"),
]

# "--backend" in a flag's help must stay two hyphens, not an en dash.
smartquotes = False
