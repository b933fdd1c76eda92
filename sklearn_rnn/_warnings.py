"""Warnings that point at the user's line, however deep in the package they
are raised."""

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def warn_user(message, category=UserWarning):
    """``warnings.warn`` with the stack level of the first caller outside the
    package, so that the warning names the user's line, not ours."""
    # stacklevel 2 is warn_user's caller; each frame of ours moves one out
    # sys._getframe, as the warnings module itself walks the stack
    level, frame = 2, sys._getframe(1)  # noqa: SLF001
    while frame is not None and _in_package(frame.f_code.co_filename):
        level += 1
        frame = frame.f_back
    warnings.warn(message, category, stacklevel=level)


def _in_package(filename):
    return os.path.abspath(filename).startswith(_PACKAGE + os.sep)
