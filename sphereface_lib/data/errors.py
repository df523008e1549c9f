"""The error raised for any data file the library cannot use."""


class DataFileError(ValueError):
    """A data file is missing, corrupt, truncated or malformed; the message says how to fix it."""
