"""One config per run: validation, the CLI's flags, the Train tabs' widgets, the live settings and
the API are all read from the config dataclass (gan_demo/settings.py)."""

import argparse
import json
import warnings
from dataclasses import dataclass, make_dataclass

import gradio as gr
import pytest
from gradio_client import Client

from gan_demo import settings
from gan_demo.errors import UserError
from gan_demo.settings import setting
from gan_demo.training.live import TrainerPool
from gan_demo.training.toy import ToyGAN, ToyTrainConfig
from gan_demo.ui import train as toy_tab, train_images as image_tab
from gan_demo.ui.common import AppContext
from gan_demo.ui.settings_widgets import rest, setting_widget
from gan_demo.zoo import ModelCache
from tests.test_app_api import TRAIN_OK


def test_a_new_field_is_one_line_and_reaches_validation_flags_widgets_and_live_lists():
    # What a maintainer adds to ToyTrainConfig for a new setting: one field. Everything else
    # (the check, the message, the CLI flag, the widget, "applies live") follows from it.
    Grown = make_dataclass("Grown", [("label_smoothing", float, setting(
        0.0, "Label smoothing", lo=0.0, hi=0.5, live=True, widget=True,
        help="D's target for real images is 1 - this"))], bases=(ToyTrainConfig,))
    assert settings.widget_settings(Grown)[-1] == "label_smoothing"
    assert "label_smoothing" in settings.live_settings(Grown)
    with pytest.raises(UserError, match=r"Label smoothing \(label_smoothing\) must be between 0 and 0.5, got 2"):
        settings.check(Grown(label_smoothing=2.0))
    parser = argparse.ArgumentParser()
    settings.add_flags(parser, Grown)
    assert parser.parse_args(["--label-smoothing", "0.1"]).label_smoothing == 0.1
    assert "--label-smoothing" in parser.format_help() and "D's target" in parser.format_help()
    assert rest(Grown, set(settings.widget_settings(ToyTrainConfig))) == ["label_smoothing"]


def test_widgets_follow_the_spec():
    with gr.Blocks():
        loss = setting_widget(ToyTrainConfig, "loss")
        d_steps = setting_widget(ToyTrainConfig, "d_steps")
        lr = setting_widget(ToyTrainConfig, "lr_d")
        mbs = setting_widget(ToyTrainConfig, "minibatch_std")
        batch = setting_widget(ToyTrainConfig, "batch_size")
    assert isinstance(loss, gr.Dropdown) and ("Hinge", "hinge") in [tuple(c) for c in loss.choices]
    assert isinstance(d_steps, gr.Slider) and (d_steps.minimum, d_steps.maximum) == (1, 20)
    assert isinstance(lr, gr.Number) and lr.label == "D learning rate" and lr.value == 1e-3
    assert isinstance(mbs, gr.Checkbox) and mbs.value is False
    assert (batch.minimum, batch.maximum, batch.step) == (8, 1024, 8)


def test_the_weight_average_pack_and_minibatch_std_reach_the_train_tab():
    assert toy_tab.FIELDS[-4:-1] == ("g_average", "pack", "minibatch_std")
    # The first 17 stay in the order today's positional callers send them.
    assert toy_tab.FIELDS[:17] == ("dataset", "loss", "minibatch_disc", "train_weaker", "d_steps", "optimizer",
                                   "lr_d", "lr_g", "batch_size", "noise_dim", "noise_dist", "hidden_layers",
                                   "width", "seed", "n_discriminators", "gman", "noise_codes")
    # The Images tab's first 12 likewise; the weight average was appended to them.
    assert image_tab.FIELDS == ("dataset", "model", "loss", "train_weaker", "d_steps", "lr_d", "lr_g",
                                "batch_size", "width", "latent_dim", "seed", "eval_every", "g_average")


def test_live_settings_apply_at_once_and_the_rest_need_a_reset():
    gan = ToyGAN(ToyTrainConfig(batch_size=64, width=16, hidden_layers=2))
    gan.run(5)
    gan.set_hyperparameters(g_average=0.99, lr_d=5e-4)
    assert gan.G_avg is not None and gan.opt_d.param_groups[0]["lr"] == 5e-4
    with pytest.raises(UserError, match="press Reset"):
        gan.set_hyperparameters(pack=2)
    with pytest.raises(UserError, match="press Reset"):
        gan.set_hyperparameters(width=32)


@pytest.fixture()
def toy_handlers():
    pool = TrainerPool(2)
    ctx = AppContext(models=ModelCache(), pool=pool)
    yield toy_tab.handlers(ctx)
    pool.close_all()


def test_handlers_work_without_a_page(toy_handlers):
    values = dict(zip(toy_tab.FIELDS, [*TRAIN_OK, 0.999, 2, True, 1.0]))
    state, status = toy_handlers.step(None, 20, "both", *values.values(), None)
    assert "step 20" in status
    cfg = state.trainer.published.config
    assert (cfg.g_average, cfg.pack, cfg.minibatch_std) == (0.999, 2, True)
    assert state.trainer.published.g_avg_state  # the average is on and published
    with pytest.raises(UserError, match=r"G weight average \(g_average\) must be between"):
        toy_handlers.start(state, *{**values, "g_average": 1.5}.values(), None)
    # A setting a running trainer cannot take: new networks, and the status says why.
    state, status = toy_handlers.step(state, 5, "both", *{**values, "minibatch_std": False}.values(), None)
    assert "step 5 " in status and "New networks from step 0: Minibatch std feature changed" in status
    status = toy_handlers.change(state, *{**values, "minibatch_std": False, "g_average": 0.99}.values(), None)
    assert "Applied: G weight average 0.99." in status  # only what changed, by its label
    # Paused (Step leaves it paused): the readouts shown were measured before the change, and say so.
    assert "readouts are the last step's" in status
    state, status, seed = toy_handlers.reset(state, *values.values(), None)
    assert seed == 1 and state.trainer.published.config.seed == 1
    toy_handlers.pause(state)


def test_a_json_config_starts_a_run_and_unknown_names_are_refused(toy_handlers):
    state, status = toy_handlers.start_config(None, json.dumps({"dataset": "grid25", "batch_size": 64,
                                                                 "width": 16, "g_average": 0.99}))
    cfg = state.trainer.published.config
    assert (cfg.dataset, cfg.batch_size, cfg.g_average, cfg.loss) == ("grid25", 64, 0.99, "ns")
    toy_handlers.pause(state)
    with pytest.raises(UserError, match="Unknown setting 'learning_rate'"):
        toy_handlers.start_config(state, {"learning_rate": 1})
    with pytest.raises(UserError, match="not valid JSON"):
        toy_handlers.start_config(state, "{dataset: ring8")


def test_api_takes_todays_positional_calls_keywords_and_a_json_config(app_url):
    client = Client(app_url, verbose=False)
    # Today's 17 positional values: the three new settings take their defaults.
    status = client.predict(*TRAIN_OK, api_name="/train_start")
    client.predict(api_name="/train_pause")
    assert "running" in status or "step" in status
    status = client.predict(dataset="ring8", batch_size=64, width=16, hidden_layers=2, g_average=0.99, n=10,
                            api_name="/train_step")
    assert "step 10 " in status  # new widths: new networks, then the 10 steps
    status = client.predict(config={"dataset": "moons", "batch_size": 64, "width": 16}, api_name="/train_start_config")
    client.predict(api_name="/train_pause")
    assert "step" in status
    with pytest.raises(Exception, match="Unknown setting"):
        client.predict(config={"bogus": 1}, api_name="/train_images_start_config")
    # The Images tab's 12 positional values from before the weight average: it takes its default (off).
    status = client.predict(10, "both", "mnist", "dcgan", "ns", False, 1, 4e-4, 4e-4, 16, 8, 16, 0, 200,
                            api_name="/train_images_step")
    assert "step 10 " in status and "weight average" not in status
    status = client.predict(g_average=0.99, width=8, latent_dim=16, dataset="mnist", n=2, api_name="/train_images_step")
    assert "step 12 " in status and "Drawn from G's weight average (decay 0.99)" in status


def test_the_mcp_server_lists_the_apps_tools_with_their_docstrings():
    from gradio.mcp import GradioMCPServer

    from gan_demo.ui import build_app, launch_kwargs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "a tool has a gr.State input": the sessions' state
        server = GradioMCPServer(build_app())
    tools = server.get_tool_to_endpoint()
    for name in ("explore", "translate", "train_start", "train_start_config", "train_images_step", "versus_start"):
        assert tools.get(name) == f"/{name}"
    description, _ = server.get_fn_description(server.get_block_fn_from_endpoint_name("/train_start"), "train_start")
    assert description.startswith("Start (or resume) live training")
    assert launch_kwargs()["mcp_server"] is False  # off unless GAN_DEMO_MCP says otherwise


def test_mcp_is_switched_on_by_its_setting(monkeypatch):
    from gan_demo.ui import launch_kwargs

    monkeypatch.setenv("GAN_DEMO_MCP", "1")
    assert launch_kwargs()["mcp_server"] is True


@dataclass
class _Unused:  # a config without settings has nothing to check or show
    x: int = 1


def test_a_plain_dataclass_has_no_settings():
    assert settings.specs(_Unused) == {} and settings.check(_Unused()) == _Unused()


def test_the_toy_tabs_other_controls_work_without_a_page(toy_handlers, tmp_path):
    values = dict(zip(toy_tab.FIELDS, [*TRAIN_OK, 0.0, 1, False, 1.0]))
    with pytest.raises(UserError, match="Nothing to export yet"):
        toy_handlers.export_csv(None)
    with pytest.raises(UserError, match="Speed"):
        toy_handlers.speed(None, float("nan"))
    state, status = toy_handlers.slow_motion(None, *values.values(), None)
    assert state.trainer is not None and "step" in status
    state, _ = toy_handlers.step(state, 10, "both", *values.values(), None)
    view, status, losses, scores, *charts, timer = toy_handlers.view(state, True, False)
    assert view.ndim == 3 and len(losses) > 0 and len(charts) == 2
    csv = toy_handlers.export_csv(state)
    assert csv.endswith(".csv") and "d_loss" in open(csv).read()
    assert toy_handlers.export_png(state, True, True).endswith(".png")


def test_the_gradient_penalty_weight_reaches_the_train_tab_from_its_field_alone():
    # One field's metadata (widget=True; it was live already): the widget, its place in the API
    # and its live handling follow with no other line of code.
    assert toy_tab.FIELDS[-1] == "gp_weight" and "gp_weight" in settings.live_settings(ToyTrainConfig)
    widget = setting_widget(ToyTrainConfig, "gp_weight")
    assert isinstance(widget, gr.Number) and widget.label == "Gradient penalty weight" and widget.value == 1.0
    gan = ToyGAN(ToyTrainConfig(loss="wgan-gp", batch_size=64, width=16, hidden_layers=2))
    gan.run(3)
    gan.set_hyperparameters(gp_weight=10.0)
    assert gan.cfg.gp_weight == 10.0
