"""GAN Playground: models, data, training and tools behind the Gradio app.

Nothing in this package except ``gan_demo.ui`` imports gradio, so every piece can be used from a
notebook or the CLI (``python -m gan_demo --help``).
"""

__version__ = "0.1.0"
