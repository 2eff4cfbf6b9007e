"""GAN Playground: builds the Gradio app from gan_demo.ui and launches it."""

from gan_demo.ui import build_app, launch_kwargs, prepare_runtime

prepare_runtime()
demo = build_app()

if __name__ == "__main__":
    demo.launch(**launch_kwargs())
