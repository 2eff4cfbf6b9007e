import json

import pytest
import torch

from gan_demo import zoo
from gan_demo.errors import UserError


def test_shipped_dcgan_fashion_has_a_complete_card():
    card = next(c for c in zoo.list_models() if c["name"] == "dcgan-fashion")
    assert card["dataset"] == "fashion" and len(card["classes"]) == 10
    assert card["training"]["epochs_done"] >= 1 and card["training"]["wall_time_s"] > 0


def test_unknown_name_lists_what_the_zoo_has():
    with pytest.raises(UserError, match="the zoo has: .*dcgan-fashion"):
        zoo.load("nope")


@pytest.mark.parametrize("name", ["../etc/passwd", "..", "a/../../b", "/abs/path", "x" * 300, ""])
def test_names_that_look_like_paths_never_reach_the_filesystem(name):
    with pytest.raises(UserError):
        zoo.load(name)


def test_hub_load_offline_fails_with_one_sentence(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match=r"Could not fetch 'someone/some-gan' from the Hugging Face Hub"):
        zoo.load("someone/some-gan")


def test_hub_load_reads_the_hub_layout(monkeypatch, tmp_path):
    """The hub path with huggingface_hub's download replaced by local files in the hub layout."""
    import huggingface_hub

    src = zoo.WEIGHTS_DIR
    files = {zoo.HUB_WEIGHTS: src / "dcgan-fashion.safetensors", zoo.HUB_CARD: src / "dcgan-fashion.json"}
    calls = []

    def fake_download(repo_id, filename, revision=None, local_files_only=False):
        calls.append((repo_id, filename, local_files_only))
        return str(files[filename])

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    for online in (True, False):  # offline: the models fetched before load from the local cache
        monkeypatch.setattr(zoo, "hub_reachable", lambda online=online: online)
        calls.clear()
        model = zoo.load("gan-playground/dcgan-fashion")
        assert model.latent_dim == 64 and {f for _, f, _ in calls} == set(files)
        assert all(cached == (not online) for _, _, cached in calls)


def test_an_unreachable_hub_fails_within_five_seconds_and_long_names_are_cut(monkeypatch):
    import time

    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "ENDPOINT", "https://hub.invalid")
    t0 = time.perf_counter()
    with pytest.raises(UserError, match="cannot be reached"):
        zoo.load("someone/some-gan")
    assert time.perf_counter() - t0 < 5
    with pytest.raises(UserError) as err:
        zoo.load("x" * 5000)
    assert len(str(err.value)) < 400 and "5,002 characters" in str(err.value)


def test_a_broken_card_hides_one_model_not_the_zoo(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "bad.safetensors").write_bytes(b"junk")
    assert zoo.list_models(tmp_path) == []


def test_corrupt_weights_give_a_clear_message(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({"family": "dcgan", "config": {}}))
    (tmp_path / "bad.safetensors").write_bytes(b"junk")
    with pytest.raises(UserError, match="do not load"):
        zoo.load("bad", weights_dir=tmp_path)


@pytest.mark.parametrize("card", zoo.list_models(), ids=lambda c: c["name"])
def test_every_shipped_model_has_a_card_with_honest_metrics(card):
    """Each model was scored by `python -m gan_demo evaluate NAME --update-card` with the
    independent classifier: clearly better than an untrained generator of its architecture."""
    assert card["training"]["steps"] > 0 and card["training"]["wall_time_s"] > 0
    m = card["metrics"]
    assert m["samples"] == 10_000
    assert m["frechet_real_train_vs_test"] < m["frechet_distance"] < 0.25 * m["frechet_untrained_generator"]
    model = zoo.load(card["name"])
    assert model.generator(torch.randn(2, model.latent_dim), *(
        [torch.tensor([0, 1])] if card.get("conditional") else [])).shape == (2, 1, 28, 28)


def test_comparison_rows_come_from_the_cards():
    rows = {r[0]: r for r in zoo.comparison_rows(zoo.list_models())}
    assert set(rows) == set(zoo.model_names())
    digits = dict(zip(zoo.COMPARISON_COLUMNS, rows["cgan-digits"]))
    card = json.loads((zoo.WEIGHTS_DIR / "cgan-digits.json").read_text())
    assert digits["Frechet distance"] == card["metrics"]["frechet_distance"]
    assert digits["class accuracy %"] == round(100 * card["metrics"]["class_accuracy"], 1)
    assert dict(zip(zoo.COMPARISON_COLUMNS, rows["dcgan-fashion"]))["class accuracy %"] is None


def test_translation_models_stay_out_of_the_sampling_zoo(tmp_path):
    from gan_demo.models.cyclegan import CycleGANConfig, CycleGANPair

    zoo.save(CycleGANPair(CycleGANConfig(ngf=4, n_blocks=1)), {"family": "cyclegan", "config": {"ngf": 4, "n_blocks": 1}},
             tmp_path / "cg")
    assert zoo.model_names(tmp_path) == [] and zoo.model_names(tmp_path, kind="translation") == ["cg"]
