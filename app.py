"""GAN Playground: builds the Gradio app from gan_demo.ui and launches it."""

from gan_demo.ui import build_app, launch_kwargs, prepare_runtime, start_housekeeping

prepare_runtime()
demo = build_app()

if __name__ == "__main__":
    start_housekeeping(demo)
    demo.launch(**launch_kwargs())
