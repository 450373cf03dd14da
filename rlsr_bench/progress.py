"""The one progress bar of every long-running command: tqdm on stderr, only on a terminal.

Every command that works through many items (``verify``, ``judge-agreement``, ``eval``,
``train``, ``generate``, ``loop``) shows its progress with ``progress(...)`` and offers
``-q/--quiet`` through ``add_quiet_argument``. The bar shows items done, items/s and the ETA;
``bar.set_postfix(...)`` adds live values (e.g. the last step's rewards). Nothing is written
when stderr is not a terminal (logs, CI, pipes) or when ``quiet`` is true, so output files and
stdout never contain progress text.

>>> with progress(3, "verify", quiet=True) as bar:
...     bar.update(3)
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["add_quiet_argument", "foreign_bars", "progress", "shows_progress"]


def shows_progress(quiet: bool = False) -> bool:
    """Tell whether a bar would be drawn: not quiet and stderr is a terminal."""
    if quiet:
        return False
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # a replaced or closed stderr
        return False


def progress(
    total: int | None,
    desc: str,
    *,
    quiet: bool = False,
    unit: str = "item",
    initial: int = 0,
    force: bool | None = None,
) -> Any:
    """Return a tqdm bar on stderr (a silent one when ``quiet`` or stderr is not a terminal).

    Use it as a context manager or call ``close()``; ``update(n)`` advances it,
    ``set_postfix(name=value)`` shows live values. ``force`` overrides the terminal check
    (tests).
    """
    from tqdm import tqdm

    enabled = shows_progress(quiet) if force is None else force and not quiet
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        initial=initial,
        file=sys.stderr,
        disable=not enabled,
        dynamic_ncols=True,
        leave=False,
        smoothing=0.1,
    )


@contextlib.contextmanager
def foreign_bars(*, quiet: bool = False) -> Iterator[None]:
    """Apply the same rule to the tqdm bars of libraries run in-process (lm-eval, TRL).

    Inside the block every tqdm bar is disabled unless ``shows_progress(quiet)``: the libraries'
    own bars (items/s, ETA) appear on a terminal only, and ``--quiet`` silences them.
    """
    if shows_progress(quiet):
        yield
        return
    import tqdm.std

    original = tqdm.std.tqdm.__init__

    @functools.wraps(original)
    def _silent(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["disable"] = True
        original(self, *args, **kwargs)

    tqdm.std.tqdm.__init__ = _silent  # type: ignore[method-assign]
    try:
        yield
    finally:
        tqdm.std.tqdm.__init__ = original  # type: ignore[method-assign]


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``-q/--quiet`` (no progress bar, no warnings) to a command's parser."""
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bar (shown only on a terminal anyway) and no warnings on stderr",
    )
