import numpy as np
import pytest

from gan_demo.data import DATA_ENV, DataNotFoundError, data_root, load_images


def test_fashion_mnist_loads_from_the_gzipped_idx_files(data_root):
    train = load_images("fashion", data_root, train=True, download=False)
    test = load_images("fashion", data_root, train=False, download=False)
    assert train.images.shape == (60000, 28, 28) and train.images.dtype == np.uint8
    assert test.images.shape == (10000, 28, 28)
    assert sorted(np.unique(train.labels)) == list(range(10))
    assert train.classes[7] == "Sneaker"


def test_mnist_falls_back_to_the_5k_subset_with_a_held_out_split(data_root):
    train = load_images("mnist", data_root, train=True, download=False)
    test = load_images("mnist", data_root, train=False, download=False)
    assert len(train.images) + len(test.images) == 5000
    assert np.bincount(test.labels).tolist() == [50] * 10


def test_images_become_tensors_in_tanh_range(data_root):
    x, y = load_images("mnist", data_root, download=False).tensors()
    assert x.shape[1:] == (1, 28, 28) and x.min() == -1 and x.max() == 1
    assert y.dtype.is_floating_point is False


def test_missing_data_says_where_to_put_it(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"FashionMNIST/raw.*--data-root"):
        load_images("fashion", tmp_path, download=False)


def test_truncated_idx_file_is_reported_not_crashed(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(bytes([0, 0, 8, 3]) + (60000).to_bytes(4, "big")
                                                  + (28).to_bytes(4, "big") * 2 + b"\0" * 100)
    (raw / "train-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1]) + (60000).to_bytes(4, "big"))
    with pytest.raises(DataNotFoundError, match="truncated"):
        load_images("fashion", tmp_path, download=False)


def test_data_root_setting_prefers_flag_then_env(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert data_root() == tmp_path
    assert str(data_root("/elsewhere")) == "/elsewhere"
    monkeypatch.delenv(DATA_ENV)
    assert str(data_root()) == "data"


def test_a_failed_download_says_where_to_put_the_data(monkeypatch, tmp_path):
    import torchvision

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", offline)
    with pytest.raises(DataNotFoundError, match=r"download failed.*FashionMNIST/raw"):
        load_images("fashion", tmp_path, download=True)
