"""Screenshots of every tab at 1400 x 900, as a new user sees them, into docs/.

    GAN_DEMO_DATA=../shared/data python docs/screenshots.py [--port 7990]

Launches the app, opens it in headless Chromium (/usr/bin/chromium), and for each tab does what
a first visit does (the default model, a click on Start for the live tabs, a few seconds of
training) before taking the visible screen, not the whole page: what fits one screen is the point.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DOCS = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=7990)
    ap.add_argument("--train-seconds", type=float, default=20)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from gan_demo.ui import build_app, launch_kwargs

    demo = build_app()
    demo.launch(**{**launch_kwargs(), "server_name": "127.0.0.1", "server_port": args.port,
                   "prevent_thread_lock": True, "quiet": True})
    wait_ms = int(args.train_seconds * 1000)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"http://127.0.0.1:{args.port}/")
            page.wait_for_timeout(4000)

            def shot(name: str) -> None:
                page.evaluate("() => window.scrollTo(0, 0)")
                page.wait_for_timeout(500)
                page.screenshot(path=str(DOCS / f"{name}.png"))
                print("wrote", DOCS / f"{name}.png")

            for tab, name in (("Explore", "explore"), ("Interpolate", "interpolate"),
                              ("Conditional", "conditional"), ("Latent tools", "latent_tools"),
                              ("Translate", "translate"), ("Sketch", "sketch")):
                page.get_by_role("tab", name=tab).first.click()
                page.wait_for_timeout(5000)
                if tab == "Translate":
                    photo = DOCS.parent / "examples" / "horse2zebra" / "horse_n02381460_120.jpg"
                    page.locator("#translate-upload input[type=file]").set_input_files(str(photo))
                    page.locator("#translate-slider img").first.wait_for(state="visible", timeout=120_000)
                    page.wait_for_timeout(3000)
                if tab == "Sketch":
                    page.locator("#sketch-examples .thumbnail-item").nth(3).click()
                    page.wait_for_timeout(5000)
                shot(name)
            page.get_by_role("tab", name="Train live").click()
            page.locator("#train-start").click()
            page.wait_for_timeout(wait_ms)
            shot("train")
            page.locator("#train-pause").click()
            page.get_by_role("tab", name="Images").click()
            page.locator("#img-start").click()
            page.wait_for_timeout(wait_ms)
            shot("train_images")
            page.locator("#img-pause").click()
            page.get_by_role("tab", name="Versus").click()
            page.locator("#versus-start").click()
            page.wait_for_timeout(wait_ms + 10_000)
            shot("train_versus")
            page.locator("#versus-pause").click()
            browser.close()
    finally:
        demo.close()


if __name__ == "__main__":
    main()
