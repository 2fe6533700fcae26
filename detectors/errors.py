"""Errors shared by every detector."""


class DetectorConfigError(ValueError):
    """A detector's kind or parameters are invalid; the message names the parameter."""
