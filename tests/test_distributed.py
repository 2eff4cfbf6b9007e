"""`python -m gan_demo train` under torchrun: two CPU processes (gloo) end with identical weights."""

import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from conftest import ROOT


@pytest.mark.parametrize("family", ["dcgan", "cgan"])
def test_two_ranks_end_with_identical_weights_that_moved(tmp_path, family, data_root):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GAN_DEMO_DATA": str(data_root)}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                           "--standalone",
                           str(ROOT / "tests" / "helpers" / "ddp_worker.py"), str(tmp_path), family],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    a, b = load_file(str(tmp_path / "rank0.safetensors")), load_file(str(tmp_path / "rank1.safetensors"))
    assert a.keys() == b.keys() and len(a) > 4
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # and training moved them: compare with the same seeded init the trainer starts from
    from gan_demo.models import config_from_dict, get_family

    fam = get_family(family)
    cfg = config_from_dict(fam, {"latent_dim": 8, "width": 8, "num_classes": 10})
    torch.manual_seed(0)
    G0 = fam.generator(cfg)
    D0 = fam.discriminator(cfg)
    moved = [k for k, v in [*(("G." + n, p) for n, p in G0.named_parameters()),
                            *(("D." + n, p) for n, p in D0.named_parameters())]
             if not torch.allclose(v.detach(), a[k])]
    assert len(moved) > len(a) // 2
    assert (tmp_path / "model.safetensors").is_file()
    card = (tmp_path / "model.json").read_text()
    assert "x 2 processes (DDP)" in card
