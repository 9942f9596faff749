"""The base of every error that is the user's to fix (bad input, missing file, unknown option)."""


class AffectlabError(Exception):
    """Raised with a message that names the file, row, field or option at fault."""


class OptionError(AffectlabError, ValueError):
    """An argument outside what the function accepts."""
