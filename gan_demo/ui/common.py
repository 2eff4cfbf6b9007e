"""What every tab shares: turning our errors into ``gr.Error`` and the app-wide resources."""

from __future__ import annotations

import functools
import inspect
import logging
import random
from dataclasses import dataclass

import gradio as gr

from ..errors import UserError
from ..validate import MAX_SEED
from ..training.live import TrainerPool
from ..zoo import ModelCache

log = logging.getLogger("gan_demo.ui")


@dataclass
class AppContext:
    """The app's shared, read-mostly resources; built once in ``build_app``."""

    models: ModelCache
    pool: TrainerPool  # the only cross-session mutable state: the cap on live trainers


def user_errors(fn):
    """Show a ``UserError`` as its one-line message and anything unexpected as a short apology.

    Either way the person sees a sentence, not a traceback, and the server keeps serving.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(f"Something went wrong ({type(exc).__name__}); please try again.",
                           print_exception=False) from None

    return wrapper


def fresh_seed() -> int:
    return random.SystemRandom().randint(0, MAX_SEED)


def with_param_names(fn, names):
    """Name a handler's parameters (e.g. ``*values``) so the API page and clients show real names.

    Gradio reads the signature; a ``request: gr.Request`` parameter is kept at the end.
    """
    params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    request = inspect.signature(fn).parameters.get("request")
    if request is not None:
        params.append(request.replace(kind=inspect.Parameter.KEYWORD_ONLY))
    fn.__signature__ = inspect.Signature(params)
    return fn
