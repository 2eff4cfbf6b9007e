import os
import socket
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Tests read real data from the shared folder unless the caller points elsewhere.
os.environ.setdefault("GAN_DEMO_DATA", str(ROOT.parent / "shared" / "data"))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
torch.set_num_threads(2)

ARTIFACTS = Path(os.environ.get("GAN_DEMO_TEST_ARTIFACTS", ROOT / "tests" / "artifacts"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = Path(os.environ["GAN_DEMO_DATA"])
    if not (root / "FashionMNIST").is_dir():
        pytest.fail(f"test data missing under {root}: set GAN_DEMO_DATA (see README)")
    return root


@pytest.fixture(scope="session")
def app_url():
    """The real app on a free local port, with the shipped weights, for API and browser tests."""
    from gan_demo.ui import build_app, launch_kwargs, start_housekeeping

    demo = build_app()
    port = free_port()
    demo.launch(**{**launch_kwargs(), "server_name": "127.0.0.1", "server_port": port,
                   "prevent_thread_lock": True, "quiet": True})
    sweeper = start_housekeeping(demo)
    yield f"http://127.0.0.1:{port}/"
    sweeper.stop()
    demo.close()


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)
