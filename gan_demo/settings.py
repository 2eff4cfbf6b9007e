"""Run settings described once, on the config dataclass itself.

Each field of a run's config (``ToyTrainConfig``, ``ImageLiveConfig``) is declared with
``setting(...)``: its label, its limits or choices, a line of help, whether a running trainer takes a
new value at its next step (``live``), and whether the Train tab shows it (``widget``). Validation,
the messages that name a setting, the CLI's flags, the Train tab's widgets and the lists of
live-changeable settings are all read from here, so a new setting is one new field.

No Gradio and no torch here: the UI builds widgets from these specs in ``ui/settings_widgets.py``.
"""

from __future__ import annotations

import argparse
import functools
import json
from dataclasses import dataclass, fields, replace
from typing import Any

from .errors import UserError


@dataclass(frozen=True)
class Spec:
    """What a config field is to a person: how it is named, what it may hold, where it shows."""

    name: str
    kind: type  # bool, int, float or str (from the default; a None default needs ``kind``)
    default: Any
    label: str
    help: str = ""
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()  # allowed values; ``choice_labels`` pairs them with what a widget shows
    choice_labels: tuple = ()
    live: bool = False  # a running trainer takes a new value at its next step
    widget: bool = False  # the Train tab shows it; declaration order is the API's positional order
    slider: tuple | None = None  # a widget's (lo, hi, step) where the useful range is narrower
    cli: str | None = None  # the flag, when not --field-name; "" = no flag
    optional: bool = False  # None is allowed (and means "the default for this data")

    @property
    def flag(self) -> str | None:
        if self.cli == "":
            return None
        return self.cli or "--" + self.name.replace("_", "-")

    def named(self) -> str:
        """How a message names the setting: its label, with the field for API and CLI callers."""
        return f"{self.label} ({self.name})" if self.label != self.name else self.name

    def check(self, value, by_flag: bool = False):
        """The cleaned value, or a ``UserError`` that names the setting (by its CLI flag when
        ``by_flag``) and what it allows."""
        from . import validate

        if value is None and self.optional:
            return None
        name = self.flag if by_flag and self.flag else self.named()
        if self.kind is bool:
            return validate.as_bool(value, name)
        if self.choices:
            if not isinstance(value, str) or value not in self.choices:
                raise UserError(f"{name} must be one of: {', '.join(self.choices)}; got {str(value)[:40]!r}.")
            return value
        if self.kind is int:
            return validate.as_int(value, name, self.lo, self.hi)
        if self.kind is float:
            return validate.as_float(value, name, self.lo, self.hi)
        if not isinstance(value, str):
            raise UserError(f"{name} must be text, got {type(value).__name__}.")
        return value


def setting(default, label: str, *, help: str = "", lo=None, hi=None, choices=(), live: bool = False,
            widget: bool = False, slider: tuple | None = None, cli: str | None = None, kind: type | None = None,
            optional: bool = False):
    """A config field with its spec; ``choices`` may be values or (label, value) pairs."""
    from dataclasses import field

    pairs = tuple((c, c) if not isinstance(c, tuple) else c for c in choices)
    spec = dict(label=label, help=help, lo=lo, hi=hi, choices=tuple(v for _, v in pairs),
                choice_labels=pairs if any(isinstance(c, tuple) for c in choices) else (),
                live=live, widget=widget, slider=slider, cli=cli, kind=kind, optional=optional)
    return field(default=default, metadata={"setting": spec})


@functools.cache
def specs(cls) -> dict[str, Spec]:
    """The specs of ``cls``'s declared settings, in declaration order."""
    out = {}
    for f in fields(cls):
        meta = f.metadata.get("setting")
        if meta is None:
            continue
        meta = dict(meta)
        kind = meta.pop("kind") or type(f.default)
        out[f.name] = Spec(name=f.name, kind=kind, default=f.default, **meta)
    return out


def spec(cls, name: str) -> Spec:
    return specs(cls)[name]


def live_settings(cls) -> tuple[str, ...]:
    """The settings a running trainer takes at its next step; any other change means new networks."""
    return tuple(n for n, s in specs(cls).items() if s.live)


def widget_settings(cls) -> tuple[str, ...]:
    """The settings the Train tab shows, in the order its endpoints take them positionally."""
    return tuple(n for n, s in specs(cls).items() if s.widget)


def live_change(current, changes: dict[str, Any], check_fn=None):
    """``current`` with ``changes``, validated (by ``check_fn``, else ``check``); a ``UserError``
    when a change is to a setting a running trainer cannot take (the networks, the data, the seed)."""
    new = (check_fn or check)(replace(current, **changes))
    live = live_settings(type(current))
    changed = [f.name for f in fields(new) if f.name not in live and getattr(new, f.name) != getattr(current, f.name)]
    if changed:
        known = specs(type(current))
        label = known[changed[0]].label if changed[0] in known else changed[0]
        raise UserError(f"{label} changes the networks or the data: press Reset to apply it.")
    return new


def check(cfg, by_flag: bool = False):
    """``cfg`` with every declared setting cleaned; raises ``UserError`` naming the first bad one
    (by its CLI flag when ``by_flag``: "--epochs must be between 1 and 100000, got 0.")."""
    return replace(cfg, **{n: s.check(getattr(cfg, n), by_flag) for n, s in specs(type(cfg)).items()})


def from_json(cls, config) -> dict[str, Any]:
    """An API caller's settings (a JSON object, or its text) as a dict of ``cls``'s settings;
    ``UserError`` for bad JSON, another type or an unknown name. Values are checked by the caller's
    ``check``, once the config is built."""
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except json.JSONDecodeError as exc:
            raise UserError(f"The config is not valid JSON ({exc.msg}).") from None
    if not isinstance(config, dict):
        raise UserError(f"The config must be a JSON object of setting: value, got {type(config).__name__}.")
    known = specs(cls)
    unknown = [k for k in config if k not in known]
    if unknown:
        raise UserError(f"Unknown setting {unknown[0]!r}; known: {', '.join(known)}.")
    return dict(config)


# -- the CLI ----------------------------------------------------------------------------------
def add_flags(parser: argparse.ArgumentParser, cls, defaults: dict[str, Any] | None = None,
              skip: tuple[str, ...] = (), none_help=None) -> None:
    """One flag per setting of ``cls`` (``--field-name`` unless the spec names another).

    ``defaults`` replaces a field's default; a default of None means "the recommended value for the
    chosen data", which the command fills in, and ``none_help(name)`` says in the help what that is.
    Booleans take --x / --no-x.
    """
    defaults = defaults or {}
    for name, s in specs(cls).items():
        if name in skip or s.flag is None:
            continue
        default = defaults.get(name, s.default)
        help_text = s.help or s.label
        if s.choice_labels and not s.help:
            help_text += ": " + ", ".join(f"{v} ({t})" for t, v in s.choice_labels)
        if default is None and none_help is not None:
            help_text += f"; {none_help(name)}"
        elif default is not None and s.kind is not bool:
            help_text += f"; default {default:g}" if isinstance(default, float) else f"; default {default}"
        if s.kind is bool:
            parser.add_argument(s.flag, dest=name, action=argparse.BooleanOptionalAction, default=default,
                                help=help_text)
            continue
        kwargs: dict[str, Any] = dict(dest=name, default=default, help=help_text)
        if s.choices:
            kwargs["choices"] = list(s.choices)
        else:
            kwargs["type"] = s.kind
        parser.add_argument(s.flag, **kwargs)


def flag_values(cls, args: argparse.Namespace, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The values ``add_flags``' flags parsed into, by field name."""
    return {n: getattr(args, n) for n, s in specs(cls).items()
            if n not in skip and s.flag is not None and hasattr(args, n)}
