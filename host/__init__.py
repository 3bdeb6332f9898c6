"""movecoach: a wearable movement coach (host side)."""

from pathlib import Path as _Path

__version__ = "0.1.0"

# movecoach.signal is the repository's signal/ folder, which deliberately has no __init__.py: a
# top-level signal/ package would shadow the standard library's `signal` module for anything run
# from the repository root (`python -m movecoach demo` imports asyncio, which imports signal).
# A wheel installs the folder as movecoach/signal/, imported as a namespace package. An editable
# install cannot map a namespace package that lives outside its parent's folder (setuptools issue
# 4943), so there the repository root joins this package's search path, for signal/ only to be
# found in it (host/ comes first, so nothing in it is shadowed).
_here = _Path(__file__).resolve().parent
_checkout = _here.parent
if not (_here / "signal").is_dir() and (_checkout / "pyproject.toml").is_file() \
        and (_checkout / "signal").is_dir():
    __path__.append(str(_checkout))  # noqa: F821 - a package's own search path
