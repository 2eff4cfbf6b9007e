"""The one exception type for mistakes a user can make.

The UI turns it into a ``gr.Error`` and the CLI into a one-line message with exit code 2, so a
bad seed or an unknown model never shows a stack trace.
"""


class UserError(ValueError):
    """Bad input from a person (a flag, a widget, an API call): the message is shown as is."""


class Unavailable(UserError):
    """What was asked for exists but cannot be had here now (a Hub model with no network): the
    tabs say so as a warning and clear their pictures instead of showing an error on each."""


def shown(value, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for echoing what a user typed in a message: a
    5,000-character name comes back as its start and its length, not whole."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"
