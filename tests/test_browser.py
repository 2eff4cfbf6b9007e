"""A real browser: headless Chromium drives the app the way a student does."""

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("GAN_DEMO_CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="chromium not installed (CI installs it)")


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(app_url)
        yield page
        browser.close()


def _image_src(page) -> str:
    img = page.locator("#explore-image img")
    img.wait_for(state="visible", timeout=30_000)
    return img.get_attribute("src")


def test_moving_a_latent_slider_changes_the_image(page, artifacts):
    before = _image_src(page)
    page.screenshot(path=str(artifacts / "explore_before.png"), full_page=True, timeout=120_000)
    page.locator("#z-0 input[type=range]").fill("2.5")
    page.wait_for_function(
        "src => document.querySelector('#explore-image img')?.getAttribute('src') !== src",
        arg=before, timeout=30_000)
    after = _image_src(page)
    page.screenshot(path=str(artifacts / "explore_after_slider.png"), full_page=True, timeout=120_000)
    assert after != before


def test_new_seed_button_changes_seed_and_image(page, artifacts):
    before = _image_src(page)
    seed_before = page.get_by_label("Seed").input_value()
    page.locator("#new-seed").click()
    page.wait_for_function(
        "src => document.querySelector('#explore-image img')?.getAttribute('src') !== src",
        arg=before, timeout=30_000)
    assert page.get_by_label("Seed").input_value() != seed_before
    page.screenshot(path=str(artifacts / "explore_new_seed.png"), full_page=True, timeout=120_000)


def test_truncation_on_a_model_without_style_layers_redraws_without_an_error(page, artifacts):
    before = _image_src(page)  # the default model, cgan-digits, has no style layers
    slider = page.locator("#explore-truncation input[type=range]")
    for value in ("0.9", "0.8", "0.7", "0.6"):  # a drag: several input events
        slider.fill(value)
    page.wait_for_function(
        "src => document.querySelector('#explore-image img')?.getAttribute('src') !== src",
        arg=before, timeout=30_000)
    page.wait_for_timeout(1500)
    assert page.locator(".toast-body").count() == 0, page.locator(".toast-body").all_inner_texts()
    slider.fill("1")


def _src_changes(page, selector: str, before: str | None) -> str:
    page.wait_for_function(
        "([sel, src]) => { const i = document.querySelector(sel + ' img'); return i && i.getAttribute('src') !== src; }",
        arg=[selector, before], timeout=30_000)
    return page.locator(f"{selector} img").get_attribute("src")


def test_conditional_tab_changes_the_samples_when_the_class_changes(page, artifacts):
    page.get_by_role("tab", name="Conditional").click()
    first = _src_changes(page, "#cond-image", None)
    _src_changes(page, "#cond-grid", None)
    page.locator("#cond-class input").click()
    page.get_by_role("option", name="7", exact=True).click()  # cgan-digits comes first
    _src_changes(page, "#cond-image", first)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "conditional.png"), full_page=True, timeout=120_000)


def test_interpolate_tab_shows_a_strip_and_an_animation_and_new_seeds_change_them(page, artifacts):
    page.get_by_role("tab", name="Interpolate").click()
    strip = _src_changes(page, "#interp-strip", None)
    gif = _src_changes(page, "#interp-gif", None)
    assert gif.endswith(".gif")
    page.locator("#interp-new-seeds").click()
    _src_changes(page, "#interp-strip", strip)
    _src_changes(page, "#interp-gif", gif)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "interpolate.png"), full_page=True, timeout=120_000)


def _pick_model(page, name: str) -> None:
    page.get_by_role("tab", name="Explore").click()
    page.get_by_label("Model", exact=True).first.click()
    page.get_by_role("option", name=name, exact=True).click()


def test_picking_a_model_draws_its_samples_once(page, monkeypatch):
    """Gradio 6.31's dropdown sends `input` twice for one pick: Explore drew every model switch twice
    (a Hub model's second or two each time) and showed each warning twice. The app runs in this
    process, so the drawing function can be counted."""
    from gan_demo import sampling

    calls = []
    original = sampling.explore_grid
    monkeypatch.setattr(sampling, "explore_grid", lambda m, *a: calls.append(m.name) or original(m, *a))
    page.get_by_role("tab", name="Explore").click()
    before = _image_src(page)
    page.wait_for_timeout(1000)
    calls.clear()  # the first page's own first drawing
    _pick_model(page, "wgan-gp-fashion")
    _src_changes(page, "#explore-image", before)
    page.wait_for_timeout(3000)  # the second event came about 0.4 s after the first
    assert calls == ["wgan-gp-fashion"]


def test_a_model_picked_with_the_keyboard_is_drawn_once_and_described(page, monkeypatch):
    """Gradio sends no `select` for a keyboard pick (a typed filter or the arrows, then Enter): the
    box showed the new model, the pictures and card stayed the old one's. Both ways, once."""
    from gan_demo import sampling

    calls = []
    original = sampling.explore_grid
    monkeypatch.setattr(sampling, "explore_grid", lambda m, *a: calls.append(m.name) or original(m, *a))
    page.get_by_role("tab", name="Explore").click()
    box = page.get_by_label("Model", exact=True).first
    target = "dcgan-fashion" if box.input_value() != "dcgan-fashion" else "cgan-fashion"
    # a typed filter, then the arrow up to the model above it (one of ours: the Hub ones come last)
    for keys, name in ((list(target[:6]), target), (["ArrowUp"], None)):
        before = _image_src(page)
        page.wait_for_timeout(1000)
        calls.clear()
        box.click()
        page.keyboard.press("Control+A")
        for key in keys:
            page.keyboard.press(key)
        page.wait_for_timeout(300)
        page.keyboard.press("Enter")
        _src_changes(page, "#explore-image", before)
        page.wait_for_timeout(3000)
        shown = box.input_value()
        assert calls == [name or shown] and shown != ""
        assert page.locator("#explore-card").inner_text().startswith(shown)


def test_stylegan_shows_a_style_mixing_table(page, artifacts):
    page.get_by_role("tab", name="Explore").click()
    before = _image_src(page)
    _pick_model(page, "stylegan-fashion")
    _src_changes(page, "#explore-image", before)
    mix = _src_changes(page, "#style-mix-image", None)
    page.locator("#style-mixing input[type=range]").fill("5")
    _src_changes(page, "#style-mix-image", mix)
    page.screenshot(path=str(artifacts / "explore_style_mixing.png"), full_page=True, timeout=120_000)
    # With StyleGAN's long card the controls still sit above the fold at 1400 x 900.
    page.set_viewport_size({"width": 1400, "height": 900})
    try:
        page.evaluate("() => window.scrollTo(0, 0)")
        page.wait_for_timeout(500)
        assert "What it still does badly" in page.locator("#explore-card").inner_text()
        for selector in ("#new-seed", "#explore-truncation", "#explore-image", "#z-0"):
            box = page.locator(selector).bounding_box()
            assert box is not None and 0 <= box["y"] and box["y"] + min(box["height"], 100) <= 900, (selector, box)
    finally:
        page.set_viewport_size({"width": 1280, "height": 1000})


def test_vaegan_encodes_an_uploaded_photo(page, artifacts, tmp_path):
    import numpy as np
    from PIL import Image

    photo = np.full((240, 180, 3), 235, np.uint8)
    photo[30:210, 40:140] = (40, 40, 70)
    Image.fromarray(photo).save(tmp_path / "garment.png")
    page.get_by_role("tab", name="Explore").click()
    before = _image_src(page)
    _pick_model(page, "vaegan-fashion")
    _src_changes(page, "#explore-image", before)
    page.locator("#encode-upload input[type=file]").set_input_files(str(tmp_path / "garment.png"))
    encoded = _src_changes(page, "#encoded-image", None)
    page.locator("#z-1 input[type=range]").fill("2")
    _src_changes(page, "#encoded-image", encoded)
    page.screenshot(path=str(artifacts / "explore_vaegan_encode.png"), full_page=True, timeout=120_000)
    _pick_model(page, "dcgan-fashion")  # leave Explore as the other tests expect it


_POINTS_JS = """id => {
    const marks = document.querySelectorAll('#' + id + ' g.mark-line path');
    let n = 0;
    for (const m of marks) n += ((m.getAttribute('d') || '').match(/[ML]/g) || []).length;
    return n;
}"""


def _wait_for_points(page, elem_id: str, n: int = 2, text: str = "", timeout: int = 30_000) -> int:
    """The number of plotted points of a line chart, once it has at least n while its title and
    legend read ``text``: a chart that shows axes only fails here."""
    try:
        page.wait_for_function(
            f"([id, text]) => ({_POINTS_JS})(id) >= {n} && document.querySelector('#' + id).innerText.includes(text)",
            arg=[elem_id, text], timeout=timeout)
    except Exception:
        shown = page.locator("#" + elem_id).inner_text().replace("\n", " | ")[:300]
        raise AssertionError(f"{elem_id} drew {page.evaluate(_POINTS_JS, elem_id)} points and reads "
                             f"{shown!r}, waiting for {n} points and {text!r}") from None
    return page.evaluate(_POINTS_JS, elem_id)


def _image_pixels(page, selector: str):
    """What the page shows of an element, as an RGB array (a screenshot of it, not its file)."""
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(page.locator(selector).screenshot())).convert("RGB")).astype(int)


CHARTS = ("train-losses-plot", "train-d-plot", "train-coverage-plot", "train-hq-plot")


def test_a_fresh_train_tab_shows_the_start_and_no_empty_charts(page, artifacts):
    page.get_by_role("tab", name="Train live").click()
    img = page.locator("#train-view img")
    img.wait_for(state="visible", timeout=30_000)  # step 0: the ring in green, G's first points in purple
    pixels = _image_pixels(page, "#train-view img")
    green = ((pixels[..., 1] > pixels[..., 0] + 40) & (pixels[..., 1] > pixels[..., 2] + 10)).sum()
    purple = ((pixels[..., 0] > pixels[..., 1] + 30) & (pixels[..., 2] > pixels[..., 1] + 30)).sum()
    assert green > 100 and purple > 20, (green, purple)
    assert page.locator("#train-charts-note").is_visible()
    for chart in CHARTS:
        assert not page.locator(f"#{chart}").is_visible(), chart
    page.screenshot(path=str(artifacts / "train_fresh.png"), full_page=True, timeout=120_000)


def test_train_tab_starts_a_live_run_and_the_view_moves(page, artifacts):
    page.get_by_role("tab", name="Train live").click()
    page.locator("#train-start").click()
    status = page.locator("#train-status")
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('running')",
                           timeout=30_000)
    img = page.locator("#train-view img")
    img.wait_for(state="visible", timeout=30_000)
    first = img.get_attribute("src")
    page.wait_for_function(
        "src => document.querySelector('#train-view img')?.getAttribute('src') !== src", arg=first,
        timeout=30_000)
    for chart in CHARTS:  # ring8: losses, D scores, modes covered and high-quality %, each drawn
        _wait_for_points(page, chart)
    assert "Modes covered" in page.locator("#train-coverage-plot").inner_text()
    page.screenshot(path=str(artifacts / "train_running.png"), full_page=True, timeout=120_000)
    page.locator("#train-pause").click()
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('paused')",
                           timeout=30_000)
    assert "step" in status.inner_text()


def test_the_train_tab_fits_one_screen_at_1400_by_900(page, artifacts):
    # GAN Lab keeps the controls, the view and the curves on one screen; so does the Train tab.
    page.set_viewport_size({"width": 1400, "height": 900})
    try:
        page.get_by_role("tab", name="Train live").click()
        page.evaluate("() => window.scrollTo(0, 0)")
        page.wait_for_timeout(500)
        for selector in ("#train-start", "#train-pause", "#train-reset", "#train-view", "#train-losses-plot",
                         "#train-d-plot", "#train-status"):
            box = page.locator(selector).bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 900, (selector, box)
        page.screenshot(path=str(artifacts / "train_one_screen.png"))
    finally:
        page.set_viewport_size({"width": 1280, "height": 1000})


def _queue_calls_during(page, ms: int) -> list[str]:
    calls: list[str] = []

    def on_request(request):
        if "/queue/join" in request.url or "/run/predict" in request.url:
            calls.append(request.post_data or request.url)

    page.on("request", on_request)
    page.wait_for_timeout(ms)
    page.remove_listener("request", on_request)
    return calls


def _wait_for_queue_calls(page, n: int, timeout_ms: int) -> int:
    # On a loaded machine a tick's reply can take seconds and the timer waits for it, so count
    # until n calls arrive rather than within a fixed window.
    calls: list[str] = []

    def on_request(request):
        if "/queue/join" in request.url or "/run/predict" in request.url:
            calls.append(request.post_data or request.url)

    page.on("request", on_request)
    waited = 0
    while len(calls) < n and waited < timeout_ms:
        page.wait_for_timeout(250)
        waited += 250
    page.remove_listener("request", on_request)
    return len(calls)


def test_a_paused_page_stops_polling_and_start_wakes_it(page):
    # After the test above paused the run, the live views' timers are off: a class of idle pages
    # sends nothing. (With always-on timers, three live views polled about 12 times a second.)
    page.get_by_role("tab", name="Train live").click()
    # The tick after Pause draws the final frame, then stops itself; on a loaded machine that last
    # tick can be late (CI runs the suite on a loaded machine), so look for a quiet 3 s within a
    # minute (a page that keeps polling never has one).
    heard = []
    for _ in range(20):
        heard.append(_queue_calls_during(page, 3000))
        if not heard[-1]:
            break
    assert heard[-1] == [], f"still polling after Pause: {heard[-1][:4]}"
    img = page.locator("#train-view img")
    before = img.get_attribute("src")
    page.locator("#train-start").click()
    page.wait_for_function(
        "src => document.querySelector('#train-view img')?.getAttribute('src') !== src", arg=before,
        timeout=30_000)
    assert _wait_for_queue_calls(page, 2, 30_000) >= 2  # the view is polling again
    page.locator("#train-pause").click()
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('paused')",
                           timeout=30_000)


@pytest.mark.parametrize("data", ["Spiral", "1D Gaussian N(4, 0.5)"])
def test_data_without_modes_draws_kl_and_js_on_their_own_charts(page, artifacts, data):
    page.get_by_role("tab", name="Train live").click()
    page.get_by_label(data).first.check()
    page.locator("#train-reset").click()
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('Reset')",
                           timeout=30_000)
    page.locator("#train-start").click()
    page.wait_for_function("() => /step [1-9]\\d{2}/.test(document.querySelector('#train-status')?.innerText)",
                           timeout=60_000)  # a new run: past its first evaluations
    for chart, text in zip(CHARTS, ("D loss", "D(x)", "KL(real || fake)", "JS divergence")):
        _wait_for_points(page, chart, text=text)
    # The chart's own title names what is drawn, not the metric of the ring run before.
    assert page.locator("#train-coverage-plot .role-title-text").text_content().startswith("KL")
    assert page.locator("#train-hq-plot .role-title-text").text_content().startswith("JS")
    page.screenshot(path=str(artifacts / f"train_{data.split()[0].lower()}.png"), full_page=True,
                    timeout=120_000)
    page.locator("#train-pause").click()
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('paused')",
                           timeout=30_000)


def test_reset_on_the_grid_keeps_its_mode_charts_and_clears_them(page, artifacts):
    page.get_by_role("tab", name="Train live").click()
    page.get_by_label("Grid of 25 Gaussians").first.check()
    page.locator("#train-reset").click()
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('Reset')",
                           timeout=30_000)
    page.locator("#train-start").click()
    _wait_for_points(page, "train-coverage-plot", text="Modes covered", timeout=60_000)
    # Modes are whole numbers on a 0-25 axis: no 0.5 ticks.
    ticks = page.locator("#train-coverage-plot .role-axis-label text").all_text_contents()
    assert ticks and all(t.replace(",", "").isdigit() for t in ticks if t), ticks
    page.locator("#train-pause").click()
    page.locator("#train-reset").click()
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('Reset')",
                           timeout=30_000)
    page.wait_for_timeout(1500)  # a few polls of the reset run
    # At step 0 there is nothing to plot: the note stands where the charts were (empty frames read
    # as broken), and the view shows the new run's start.
    assert page.locator("#train-charts-note").is_visible()
    assert not page.locator("#train-coverage-plot").is_visible()
    page.screenshot(path=str(artifacts / "train_grid_reset.png"), full_page=True, timeout=120_000)
    page.locator("#train-step").click()
    page.locator("#train-coverage-plot").wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(1500)
    # Reset once retitled the grid's charts KL and JS and kept the old run's line on them.
    assert page.locator("#train-coverage-plot .role-title-text").text_content() == "Modes covered"
    assert page.locator("#train-hq-plot .role-title-text").text_content().startswith("High-quality")
    assert page.evaluate(_POINTS_JS, "train-coverage-plot") <= 1, "the last run's modes line is still drawn"


def test_a_refused_start_leaves_the_status_line_readable(page, artifacts):
    page.get_by_role("tab", name="Train live").click()
    page.get_by_label("Ring of 8 Gaussians").first.check()
    page.get_by_text("Hyperparameters").click()
    lr = page.get_by_label("D learning rate")
    lr.fill("-1")
    lr.press("Tab")
    try:
        page.locator("#train-start").click()
        page.get_by_text("D learning rate (lr_d) must be between").first.wait_for(timeout=30_000)
        # The sentence is in a toast; no red "Error" pill sits over the status line.
        assert not page.locator("#train-status .error").is_visible()
        assert page.locator("#train-status").inner_text().strip()
        page.screenshot(path=str(artifacts / "train_refused_start.png"), timeout=120_000)
    finally:
        lr.fill("0.001")
        lr.press("Tab")
        page.get_by_text("Hyperparameters").click()
        for close in page.locator(".toast-close").all():
            close.click()


def test_the_weight_average_is_a_train_tab_setting_that_applies_while_it_runs(page, artifacts):
    page.get_by_role("tab", name="Train live").click()
    page.get_by_label("Ring of 8 Gaussians").first.check()
    page.get_by_text("Hyperparameters").click()
    avg = page.get_by_label("G weight average")
    assert page.get_by_label("Pack (PacGAN)").first.is_visible()
    assert page.get_by_label("Minibatch std feature").first.is_visible()
    try:
        page.locator("#train-start").click()
        page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('running')",
                               timeout=30_000)
        avg.fill("0.99")
        avg.press("Tab")  # a live setting: the running trainer takes it at its next step
        page.wait_for_function("() => document.querySelector('#train-status')?.innerText"
                               ".includes(\"G's weight average (decay 0.99)\")", timeout=30_000)
        assert "running" in page.locator("#train-status").inner_text()  # no reset: the run went on
        page.screenshot(path=str(artifacts / "train_weight_average.png"), timeout=120_000)
    finally:
        page.locator("#train-pause").click()
        avg.fill("0")
        avg.press("Tab")
        page.get_by_text("Hyperparameters").click()


def test_a_lesson_loads_its_settings_and_slow_motion_explains_a_step(page, artifacts):
    page.get_by_role("tab", name="Train live").click()
    page.get_by_label("Ring of 8 Gaussians").first.check()
    assert "Pick a lesson" in page.locator("#lesson-text").inner_text()  # no lesson named for a run it did not set
    page.locator("#lesson-pick input").click()
    page.get_by_role("option", name="Equilibrium: D(x) and D(G(z)) drift to 0.5", exact=True).click()
    page.wait_for_function("() => document.querySelector('#lesson-text')?.innerText.includes('1D Gaussian')",
                           timeout=30_000)
    assert page.get_by_label("1D Gaussian N(4, 0.5)").first.is_checked()  # picking it loaded its data
    page.locator("#train-reset").click()
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('Reset')",
                           timeout=30_000)
    page.locator("#train-phase").click()
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('1/6')",
                           timeout=30_000)
    page.locator("#train-phase").click()
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('2/6')",
                           timeout=30_000)
    page.screenshot(path=str(artifacts / "train_slow_motion.png"), full_page=True, timeout=120_000)


def test_drawing_your_own_data_trains_on_the_sketch(page, artifacts):
    page.get_by_role("tab", name="Train live").click()
    page.get_by_label("Draw your own").check()
    canvas = page.locator("#train-sketch canvas").first
    canvas.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(1000)  # the brush is picked for us as the canvas appears: no click on it here
    assert "select the draw tool" not in page.locator("#train-sketch").inner_text()
    canvas.scroll_into_view_if_needed()  # the mouse draws at viewport coordinates
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    for i in range(20):  # a diagonal stroke
        page.mouse.move(box["x"] + box["width"] * (0.2 + 0.03 * i), box["y"] + box["height"] * (0.5 - 0.015 * i))
    page.mouse.up()
    page.locator("#use-drawing").click()  # decodes the canvas and resets onto the new data
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('Reset')",
                           timeout=30_000)
    page.locator("#train-start").click()
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('running')",
                           timeout=30_000)
    # A drawing has no modes: its quality charts are KL and JS. Every chart draws while it runs,
    # after Pause, and again after Reset and a new Start (they once stayed at axes only).
    drawn = ("D loss", "D(x)", "KL(real || fake)", "JS divergence")
    for chart, text in zip(CHARTS, drawn):
        _wait_for_points(page, chart, text=text, timeout=60_000)
    page.screenshot(path=str(artifacts / "train_drawn.png"), full_page=True, timeout=120_000)
    page.locator("#train-pause").click()
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('paused')",
                           timeout=30_000)
    for chart, text in zip(CHARTS, drawn):
        _wait_for_points(page, chart, text=text)
    page.locator("#train-reset").click()
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText.includes('Reset')",
                           timeout=30_000)
    page.locator("#train-start").click()
    page.wait_for_function("() => /step [1-9]\\d{2}/.test(document.querySelector('#train-status')?.innerText)",
                           timeout=60_000)
    for chart, text in zip(CHARTS, drawn):
        _wait_for_points(page, chart, text=text, timeout=60_000)
    page.locator("#train-pause").click()


def test_latent_tools_pca_slider_and_arithmetic_by_clicking(page, artifacts):
    page.get_by_role("tab", name="Latent tools").click()
    edited = _src_changes(page, "#pca-edited", None)
    page.locator("#pca-slider-0 input[type=range]").fill("2")
    _src_changes(page, "#pca-edited", edited)
    page.screenshot(path=str(artifacts / "latent_pca.png"), full_page=True, timeout=120_000)

    page.get_by_role("tab", name="Vector arithmetic").click()
    thumbs = page.locator("#arith-grid .thumbnail-item")
    thumbs.nth(39).wait_for(state="visible", timeout=30_000)
    for target, picks in (("A", (1, 2, 3)), ("B", (4, 5, 6)), ("C", (7, 8, 9))):
        page.get_by_label(target, exact=True).check()
        for i in picks:
            thumbs.nth(i).click()
            page.wait_for_timeout(100)  # faster than the server answers under load: no pick may be lost
    from playwright.sync_api import expect

    for box, value in (("A", "1, 2, 3"), ("B", "4, 5, 6"), ("C", "7, 8, 9")):
        expect(page.get_by_label(f"{box} (samples)")).to_have_value(value, timeout=30_000)
    page.locator("#arith-result .thumbnail-item").nth(3).wait_for(state="visible", timeout=30_000)
    # Each picked sample says which set it is in; all eight columns fit the box (none cut off).
    expect(thumbs.nth(1)).to_contain_text("1 · A", timeout=30_000)
    expect(thumbs.nth(9)).to_contain_text("9 · C", timeout=30_000)
    assert "·" not in thumbs.nth(0).inner_text()
    grid, last = page.locator("#arith-grid").bounding_box(), thumbs.nth(7).bounding_box()
    assert last["x"] + last["width"] <= grid["x"] + grid["width"] + 1, (grid, last)
    page.screenshot(path=str(artifacts / "latent_arithmetic.png"), full_page=True, timeout=120_000)


def test_translate_an_example_photo(page, artifacts, monkeypatch):
    import gradio as gr

    warned, original = [], gr.Warning
    monkeypatch.setattr(gr, "Warning", lambda message, *a, **k: warned.append(message) or original(message, *a, **k))
    page.get_by_role("tab", name="Translate").click()
    page.locator("#translate-upload input[type=file]").set_input_files(
        str(ROOT / "examples" / "horse2zebra" / "horse_n02381460_120.jpg"))
    page.locator("#translate-slider img").first.wait_for(state="visible", timeout=60_000)
    page.locator("#translate-error img").wait_for(state="visible", timeout=60_000)
    assert "PSNR" in page.locator("#translate-stats").inner_text()
    page.screenshot(path=str(artifacts / "translate.png"), full_page=True, timeout=120_000)
    # A corrupt upload: its sentence in the caption, the old results and the broken photo gone,
    # and no red Error badge over anything.
    bad = artifacts / "corrupt.jpg"
    bad.write_bytes(b"\xff\xd8 this is not a jpeg at all " * 20)
    page.locator("#translate-upload input[type=file]").set_input_files(str(bad))
    page.wait_for_function("() => document.querySelector('#translate-stats')?.innerText.includes('not an image')",
                           timeout=60_000)
    page.wait_for_timeout(1000)
    assert page.locator("#translate-slider img, #translate-error img, #translate-upload img").count() == 0
    assert page.locator("#translate-slider .error, #translate-error .error, #translate-stats .error").count() == 0
    assert "not an image" in page.locator(".toast-body").first.inner_text()  # and the toast says it too
    assert warned == [warned[0]]  # once: the photo box sends a refused file's change twice
    # the page is shared by the next tests: let the toast go before they look for toasts of their own
    page.wait_for_function("() => !document.querySelector('.toast-body')", timeout=60_000)


def _upload_with(page, button: str, path) -> None:
    with page.expect_file_chooser() as chooser:
        page.locator(button).click()
    chooser.value.set_files(str(path))


def test_a_drawn_outline_becomes_a_garment_when_the_stroke_ends(page, artifacts):
    page.get_by_role("tab", name="Sketch").click()
    canvas = page.locator("#sketch-pad canvas").first
    canvas.wait_for(state="visible", timeout=30_000)
    page.locator("#sketch-go").click()  # an empty canvas: a note, not an Error badge on every output
    page.wait_for_function("() => document.querySelector('#sketch-caption')?.innerText.includes('canvas is empty')",
                           timeout=30_000)
    assert page.locator("#sketch-garment .error, #sketch-read .error").count() == 0
    assert page.locator(".toast-body").count() == 0
    page.locator("#sketch-pad button[aria-label='Brush']").click()
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    corners = [(-60, -110), (60, -110), (80, 110), (-80, 110), (-60, -110)]  # a dress-like outline
    page.mouse.move(cx + corners[0][0], cy + corners[0][1])
    page.mouse.down()
    for (x0, y0), (x1, y1) in zip(corners, corners[1:]):
        page.mouse.move(cx + x1, cy + y1, steps=3)
    page.mouse.up()
    garment = page.locator("#sketch-garment img")
    garment.wait_for(state="visible", timeout=60_000)
    page.wait_for_function("() => document.querySelector('#sketch-caption')?.innerText.includes('ink pixels')",
                           timeout=30_000)
    page.screenshot(path=str(artifacts / "sketch_drawn.png"), full_page=True, timeout=120_000)
    first = garment.get_attribute("src")
    page.locator("#sketch-examples .thumbnail-item").nth(1).click()  # an example sketch
    page.wait_for_function("src => document.querySelector('#sketch-garment img')?.getAttribute('src') !== src",
                           arg=first, timeout=30_000)
    page.screenshot(path=str(artifacts / "sketch_example.png"), full_page=True, timeout=120_000)
    # A drawing from a file (paper, scanned): it becomes the canvas and is drawn; a file that is no
    # drawing gets its sentence and leaves the garment shown.
    second = garment.get_attribute("src")
    _upload_with(page, "#sketch-upload", ROOT / "examples" / "sketches" / "ankle-boot.png")
    page.wait_for_function("src => document.querySelector('#sketch-garment img')?.getAttribute('src') !== src",
                           arg=second, timeout=60_000)
    page.locator("#sketch-pad img, #sketch-pad canvas").first.wait_for(state="visible", timeout=30_000)
    third = garment.get_attribute("src")
    bad = artifacts / "not_a_drawing.png"
    bad.write_bytes(b"no picture here" * 10)
    _upload_with(page, "#sketch-upload", bad)
    page.locator(".toast-body").first.wait_for(state="visible", timeout=30_000)
    assert "not an image" in page.locator(".toast-body").first.inner_text()
    assert garment.get_attribute("src") == third
    page.wait_for_function("() => !document.querySelector('.toast-body')", timeout=60_000)
    # Clear leaves a canvas that takes strokes, with no progress timer left spinning over it.
    page.locator("#sketch-clear").click()
    page.wait_for_function("() => !document.querySelector('#sketch-garment img')", timeout=30_000)
    # A timer left over the canvas stays; one of an event still finishing on a loaded machine goes.
    count_timers = """() => Array.from(document.querySelectorAll('#sketch-pad *'))
        .filter(e => !e.children.length && /^[0-9.]+s$/.test(e.textContent.trim())).length"""
    try:
        page.wait_for_function(f"() => ({count_timers})() === 0", timeout=15_000)
    except Exception:
        raise AssertionError("a progress timer is left over the cleared canvas") from None
    page.locator("#sketch-pad button[aria-label='Brush']").click()
    page.mouse.move(cx - 40, cy - 40)
    page.mouse.down()
    page.mouse.move(cx + 40, cy + 60, steps=4)
    page.mouse.up()
    page.locator("#sketch-garment img").wait_for(state="visible", timeout=60_000)
    # All eight examples fit the strip (none scrolled off to the right).
    strip, last = page.locator("#sketch-examples").bounding_box(), \
        page.locator("#sketch-examples .thumbnail-item").nth(7).bounding_box()
    assert last["x"] + last["width"] <= strip["x"] + strip["width"] + 1, (strip, last)
    # Opening "What it was trained on" shows a real pair at once, not three empty boxes.
    page.get_by_text("What it was trained on").click()
    for elem in ("sketch-pair-lines", "sketch-pair-out", "sketch-pair-real"):
        page.locator(f"#{elem} img").wait_for(state="visible", timeout=60_000)


def test_images_train_live_then_save_to_the_zoo_and_explore_it(page, artifacts):
    page.get_by_role("tab", name="Train live").click()
    page.get_by_role("tab", name="Images").click()
    page.locator("#img-start").click()
    page.wait_for_function("() => document.querySelector('#img-status')?.innerText.includes('running')",
                           timeout=60_000)
    img = page.locator("#img-view img")
    img.wait_for(state="visible", timeout=30_000)
    first = img.get_attribute("src")
    page.wait_for_function(
        "src => document.querySelector('#img-view img')?.getAttribute('src') !== src", arg=first, timeout=30_000)
    page.wait_for_function("() => document.querySelector('#img-status')?.innerText.includes('Frechet')",
                           timeout=120_000)
    # The Frechet chart draws from the first measurement (step 10), not only from step 200.
    for chart, text in (("img-losses-plot", "G loss"), ("img-d-plot", "D(G(z))"), ("img-fid-plot", "Frechet")):
        _wait_for_points(page, chart, text=text, timeout=60_000)
    # Steps are whole and start at 0; the Frechet axis starts at 0 too (a first point alone drew
    # one clipped tick, and a few steps drew ticks at 9.5, 10.5).
    for chart in ("img-losses-plot", "img-fid-plot"):
        x_ticks = page.locator(f"#{chart} g[aria-label^='X-axis'] .role-axis-label text").all_text_contents()
        assert x_ticks and x_ticks[0] == "0" and not any("." in t for t in x_ticks), (chart, x_ticks)
    y_ticks = page.locator("#img-fid-plot g[aria-label^='Y-axis'] .role-axis-label text").all_text_contents()
    assert y_ticks and y_ticks[0].rstrip("k") == "0", y_ticks  # "~s" writes 0 as "0k" beside "1k"
    page.screenshot(path=str(artifacts / "train_images_running.png"), full_page=True, timeout=120_000)
    page.locator("#img-pause").click()
    page.wait_for_function("() => document.querySelector('#img-status')?.innerText.includes('paused')",
                           timeout=30_000)
    page.locator("#img-save").click()
    page.wait_for_function("() => document.querySelector('#img-saved')?.innerText.includes('Saved as')",
                           timeout=30_000)
    name = page.locator("#img-saved").inner_text().split("Saved as ")[1].split(":")[0].strip()
    assert name.startswith("live-dcgan-")
    page.get_by_role("tab", name="Explore").click()
    before = _image_src(page)
    _pick_model(page, name)
    _src_changes(page, "#explore-image", before)
    assert page.get_by_text("trained live in GAN Playground").first.is_visible()
    page.screenshot(path=str(artifacts / "explore_saved_live_model.png"), full_page=True, timeout=120_000)


def test_versus_races_two_runs_side_by_side(page, artifacts):
    page.get_by_role("tab", name="Train live").click()
    page.get_by_role("tab", name="Versus").click()
    page.locator("#versus-start").click()
    page.wait_for_function("() => document.querySelector('#versus-status')?.innerText.includes('B: minibatch discrimination')",
                           timeout=60_000)
    for side in ("a", "b"):
        page.locator(f"#versus-{side} img").wait_for(state="visible", timeout=30_000)
    # Every chart draws both runs: losses and D's scores from the first ticks, then modes covered
    # and HQ % on their own axes once the first evaluations are in.
    for chart, text in (("versus-losses-plot", "B G loss"), ("versus-d-plot", "B D(G(z))"),
                        ("versus-quality-plot", "Modes covered"), ("versus-quality2-plot", "High-quality")):
        _wait_for_points(page, chart, text=text, timeout=90_000)
    # B's lines are dashed and A's solid, so where both cover the same modes A still shows.
    dashes = page.evaluate("""() => [...document.querySelectorAll('#versus-quality-plot g.mark-line path')]
        .map(p => [p.getAttribute('stroke'), getComputedStyle(p).strokeDasharray])""")
    assert any(c == "#d62728" and d not in ("none", "") for c, d in dashes), dashes
    assert any(c == "#1f77b4" and d in ("none", "") for c, d in dashes), dashes
    # The screenshot waits for Pause: with two runs on a 2-core CI machine, a full-page capture
    # of a page refreshing both views can take longer than Playwright's 30 s.
    page.locator("#versus-pause").click()
    # Pause brings the run behind level with the one ahead, so both views show the same step.
    page.wait_for_function(
        """() => { const t = document.querySelector('#versus-status')?.innerText || '';
                   const s = [...t.matchAll(/paused, step ([\\d,]+)/g)].map(m => m[1]);
                   return s.length === 2 && s[0] === s[1]; }""", timeout=120_000)
    page.screenshot(path=str(artifacts / "versus_paused.png"), full_page=True, timeout=120_000)
