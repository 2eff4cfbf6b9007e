"""Widgets made from run settings' specs (``gan_demo.settings``): label, range, choices, help.

A tab lays out the widgets it wants where it wants them; ``rest`` gives the settings it did not
place, so a new ``widget=True`` field shows up (in the tab's Hyperparameters section) without a
line of UI code.
"""

from __future__ import annotations

import gradio as gr

from .. import settings


def setting_widget(cls, name: str, value=None, *, control=None, info: bool = False, **kwargs) -> gr.Component:
    """The widget for setting ``name`` of config class ``cls``, holding ``value`` (default: the
    field's default). Booleans are checkboxes, choices radios (dropdowns past four), whole numbers
    with a range sliders, other numbers number boxes; ``control`` picks another component."""
    s = settings.spec(cls, name)
    value = s.default if value is None else value
    common = dict(label=s.label, **({"info": s.help} if info and s.help else {}), **kwargs)
    if s.kind is bool:
        return (control or gr.Checkbox)(value, **common)
    if s.choices:
        options = list(s.choice_labels) or list(s.choices)
        if s.web_choices:  # a web page offers what a web visitor may pick
            options = [o for o in options if (o[1] if isinstance(o, tuple) else o) in s.web_choices]
        return (control or (gr.Radio if len(options) <= 4 else gr.Dropdown))(options, value=value, **common)
    if s.kind is int and s.slider is not None:
        lo, hi, step = s.slider
        return (control or gr.Slider)(lo, hi, value=value, step=step, **common)
    lo, hi = s.web or (s.lo, s.hi)
    if s.kind is int and hi is not None and hi - lo <= 100:
        return (control or gr.Slider)(lo, hi, value=value, step=1, **common)
    if s.kind is int:
        return (control or gr.Number)(value, precision=0, **common)
    return (control or gr.Number)(value, **common)


def rest(cls, placed) -> list[str]:
    """The settings with a widget that the tab's layout did not place, in declaration order."""
    return [n for n in settings.widget_settings(cls) if n not in placed]
