"""Run settings described once, on the config dataclass itself.

Each field of a run's config (``ToyTrainConfig``, ``ImageConfig``, ``CycleGANTrainConfig``,
``Pix2PixTrainConfig``) is declared with ``setting(...)``: its label, its limits or choices, a line
of help, whether a running trainer takes a new value at its next step (``live``), whether the Train
tab shows it (``widget``), and where a web visitor may ask for less than the command line (``web``:
the server's CPU is shared). Validation,
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
    web: tuple | None = None  # (lo, hi) a web visitor may ask for, where narrower than (lo, hi)
    web_choices: tuple = ()  # the choices a web visitor may pick (and a widget offers), where fewer

    @property
    def flag(self) -> str | None:
        if self.cli == "":
            return None
        return self.cli or "--" + self.name.replace("_", "-")

    def named(self) -> str:
        """How a message names the setting: its label, with the field for API and CLI callers."""
        return f"{self.label} ({self.name})" if self.label != self.name else self.name

    def check(self, value, by_flag: bool = False, web: bool = False):
        """The cleaned value, or a ``UserError`` that names the setting (by its CLI flag when
        ``by_flag``) and what it allows (a web visitor: the ``web`` range and choices)."""
        from . import validate

        if value is None and self.optional:
            return None
        name = self.flag if by_flag and self.flag else self.named()
        if self.kind is bool:
            return validate.as_bool(value, name)
        if self.choices:
            choices = self.web_choices if web and self.web_choices else self.choices
            if not isinstance(value, str) or value not in choices:
                raise UserError(f"{name} must be one of: {', '.join(choices)}; got {str(value)[:40]!r}.")
            return value
        lo, hi = self.web if web and self.web else (self.lo, self.hi)
        if self.kind is int:
            return validate.as_int(value, name, lo, hi)
        if self.kind is float:
            return validate.as_float(value, name, lo, hi)
        if not isinstance(value, str):
            raise UserError(f"{name} must be text, got {type(value).__name__}.")
        return value


def setting(default, label: str, *, help: str = "", lo=None, hi=None, choices=(), live: bool = False,
            widget: bool = False, slider: tuple | None = None, cli: str | None = None, kind: type | None = None,
            optional: bool = False, web: tuple | None = None, web_choices: tuple = ()):
    """A config field with its spec; ``choices`` may be values or (label, value) pairs."""
    from dataclasses import field

    pairs = tuple((c, c) if not isinstance(c, tuple) else c for c in choices)
    spec = dict(label=label, help=help, lo=lo, hi=hi, choices=tuple(v for _, v in pairs),
                choice_labels=pairs if any(isinstance(c, tuple) for c in choices) else (),
                live=live, widget=widget, slider=slider, cli=cli, kind=kind, optional=optional, web=web,
                web_choices=tuple(web_choices))
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


def check(cfg, by_flag: bool = False, web: bool = False):
    """``cfg`` with every declared setting cleaned; raises ``UserError`` naming the first bad one
    (by its CLI flag when ``by_flag``: "--epochs must be between 1 and 100000, got 0."; within the
    ``web`` limits for a web visitor)."""
    return replace(cfg, **{n: s.check(getattr(cfg, n), by_flag, web) for n, s in specs(type(cfg)).items()})


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


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def add_trainer_flags(every: argparse._ActionsContainer, groups: dict[str, argparse._ActionsContainer],
                      trainers: dict[str, tuple[type, Any]], notes: dict[str, str] | None = None) -> None:
    """The flags of several trainers under one command (``train FAMILY``), each declared by its
    config class: ``trainers`` maps a trainer's title to (config class, the config whose values a
    left-out flag means). A flag that one trainer has goes in that trainer's group (``groups``), one
    that several share in ``every``, its help naming who takes it and each one's default.

    Every flag parses to None when left out, so the command knows what was given (``given_flags``);
    a value is checked by the trainer's own ``check`` once its config is built. ``notes`` adds a
    line to a flag's help (how a trainer without that setting reads it).
    """
    notes = notes or {}
    uses: dict[str, list[tuple[str, Spec, Any]]] = {}
    for title, (cls, base) in trainers.items():
        for name, s in specs(cls).items():
            if s.flag is not None:
                uses.setdefault(s.flag, []).append((title, s, getattr(base, name)))
    for flag, users in uses.items():
        first = users[0][1]
        group = groups[users[0][0]] if len(users) == 1 and flag not in notes else every
        help_text = first.help or first.label
        if len(users) < len(trainers) and group is every:
            help_text = f"{', '.join(t for t, _, _ in users)}: {help_text}"
        if flag in notes:
            help_text += f"; {notes[flag]}"
        shown = [(t, d) for t, _, d in users if d is not None]

        def fmt(v):
            return f"{v:g}" if isinstance(v, float) else str(v)
        if shown and first.kind is not bool:
            if len({fmt(d) for _, d in shown}) == 1:
                help_text += f" (default {fmt(shown[0][1])})"
            else:
                help_text += " (default " + ", ".join(f"{t} {fmt(d)}" for t, d in shown) + ")"
        kwargs: dict[str, Any] = dict(dest=_dest(flag), default=None, help=help_text)
        if all(s.kind is bool for _, s, _ in users):
            group.add_argument(flag, action=argparse.BooleanOptionalAction, **kwargs)
            continue
        choices = [c for _, s, _ in users for c in s.choices]
        if choices and all(s.choices for _, s, _ in users):
            kwargs["choices"] = list(dict.fromkeys(choices))
        else:
            kinds = {s.kind for _, s, _ in users}
            kwargs["type"] = float if float in kinds else int if kinds == {int} else str
        group.add_argument(flag, **kwargs)


def given_flags(cls, args: argparse.Namespace) -> dict[str, Any]:
    """The settings of ``cls`` whose flags were given (``add_trainer_flags``), by field name."""
    out = {}
    for name, s in specs(cls).items():
        value = getattr(args, _dest(s.flag), None) if s.flag else None
        if value is not None:
            out[name] = value
    return out
