"""Output formats: one interface, ``render(result, fmt, **options) -> str``.

Each result type (BinaryReport, BinaryDiff, ImageReport, ImageDiff, Report, ...) registers
one pure function per format ("text", "json", "markdown") with ``@renderer``. Renderers
take data and return a string: no I/O, no environment, so they are tested against exact text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FORMATS = ("text", "json", "markdown", "html")

_RENDERERS: dict[tuple[type, str], Callable[..., str]] = {}


def renderer(result_type: type, fmt: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")

    def register(fn: Callable[..., str]) -> Callable[..., str]:
        _RENDERERS[(result_type, fmt)] = fn
        return fn

    return register


def render(result: Any, fmt: str, **options: Any) -> str:
    _load_renderers(fmt)
    for cls in type(result).__mro__:
        fn = _RENDERERS.get((cls, fmt))
        if fn is not None:
            return fn(result, **options)
    raise ValueError(f"no {fmt} renderer for {type(result).__name__}")


def _load_renderers(fmt: str) -> None:
    # Importing a module registers its renderers. Modules are named <domain>_<format>, and only the
    # requested format's are imported: a JSON run never pays for rich, jinja2 or cmark-gfm.
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules(__path__):
        if mod.name.endswith(f"_{fmt}"):
            importlib.import_module(f"{__name__}.{mod.name}")
