"""Errors of the data layer: each one names the file or folder it is about."""

from __future__ import annotations

from tapegrad.autograd.errors import TapegradError


class DataError(TapegradError, ValueError):
    """A data file or folder is malformed (bad IDX header, corrupt image, empty class folder, ...)."""


class DatasetNotFoundError(TapegradError, FileNotFoundError):
    """A data set's files are not where they were looked for; the message says how to get them."""
