"""Seeded constructors touch only the CPU random stream, so on a GPU machine they leave CUDA's alone.

``torch.random.fork_rng(devices=[])`` saves and restores the CPU generator only; seeding inside it with
``torch.manual_seed`` would also reseed every CUDA device and never restore it. These tests run on the CPU:
they check that CUDA's seeding function is never called, and that the weights are those of the CPU seed.
"""
import numpy as np
import pytest
import torch

import aecourse
from aecourse import denoising as dn
from aecourse import pretraining as pt
from aecourse.exercises import denoising as dn_checks
from aecourse.models import mlp


@pytest.fixture
def cuda_seeds(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: calls.append(seed))
    monkeypatch.setattr(torch.cuda, "manual_seed", lambda seed: calls.append(seed))
    return calls


def test_seeded_constructors_leave_cuda_stream_alone(cuda_seeds):
    X = np.random.default_rng(0).random((20, 6)).astype(np.float32)
    aecourse.MLPAutoencoder(6, 2, hidden=(4,), seed=1)
    aecourse.VAE(6, 2, hidden=(4,), seed=1)
    dn.fit_denoiser(X, width=4, epochs=1, batch_size=None, seed=1, device="cpu")
    stack = pt.pretrain(X, (4, 3), epochs=1, seed=1, device="cpu")
    pt.pretrained_classifier(stack, 3, seed=1)
    pt.mlp_classifier(6, (4,), 3, seed=1)
    dn_checks.check_denoising_loss(dn_checks._example_loss)
    assert cuda_seeds == []


def test_seeded_weights_are_those_of_the_cpu_seed():
    before = torch.get_rng_state()
    model = aecourse.MLPAutoencoder(6, 2, hidden=(4,), seed=3)
    assert torch.equal(torch.get_rng_state(), before)          # the caller's CPU stream is untouched
    torch.manual_seed(3)
    encoder = mlp((6, 4, 2), "relu")
    for got, want in zip(model.encoder.parameters(), encoder.parameters()):
        assert torch.equal(got, want)
