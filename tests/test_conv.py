"""The convolutional autoencoder: shapes, parameter counts by hand, seeding, training with aecourse.train;
image shifts against numpy's roll; input errors."""
import numpy as np
import pytest
import torch
from torch import nn

import aecourse
from aecourse import conv


def test_shapes_and_verbs_match_the_mlp_autoencoder():
    m = conv.ConvAutoencoder(10, channels=(8, 16))
    x = torch.rand(5, 64, generator=torch.Generator().manual_seed(0))
    z = m.encode(x)
    assert z.shape == (5, 10) and m.decode(z).shape == (5, 64) and m(x).shape == (5, 64)
    with torch.no_grad():
        assert float(m(x).min()) >= 0 and float(m(x).max()) <= 1      # sigmoid output
    assert torch.allclose(m(x), m.decode(m.encode(x)))


def test_parameter_count_by_hand():
    m = conv.ConvAutoencoder(10, channels=(8, 16))
    enc = (9 * 1 * 8 + 8) + (9 * 8 * 16 + 16) + (16 * 2 * 2 * 10 + 10)
    dec = (10 * 64 + 64) + (9 * 16 * 8 + 8) + (9 * 8 * 1 + 1)
    assert conv.count_parameters(m) == enc + dec
    mlp = aecourse.MLPAutoencoder(64, 10, (32,))
    assert conv.count_parameters(mlp) == (64 * 32 + 32) + (32 * 10 + 10) + (10 * 32 + 32) + (32 * 64 + 64)
    frozen = nn.Linear(3, 2)
    frozen.weight.requires_grad_(False)
    assert conv.count_parameters(frozen) == 2


def test_same_seed_same_weights_and_global_stream_untouched():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = conv.ConvAutoencoder(4, seed=7)
    after = torch.rand(1)
    b = conv.ConvAutoencoder(4, seed=7)
    assert torch.equal(before, after)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_encoder_is_translation_equivariant_by_two_pixels_in_the_interior():
    # A stride-2 convolution shifts its output by one cell when the input shifts by two pixels.
    m = conv.ConvAutoencoder(4, image_shape=(16, 16), channels=(3,), seed=0)
    x = torch.zeros(1, 256)
    img = x.reshape(16, 16)
    img[6:9, 5:8] = torch.arange(9.0).reshape(3, 3)
    shifted = torch.as_tensor(conv.shift_images(x.numpy(), dx=2, shape=(16, 16)))
    with torch.no_grad():
        h = m.encoder_conv(x.reshape(1, 1, 16, 16))
        hs = m.encoder_conv(shifted.reshape(1, 1, 16, 16))
    assert torch.allclose(hs[..., 1:], h[..., :-1], atol=1e-6)


def test_trains_with_the_one_loop():
    X = aecourse.load_digits().X_train[:256]
    m = conv.ConvAutoencoder(8, seed=0)
    hist = aecourse.train(m, X, epochs=15, batch_size=64, lr=1e-2, progress=False)
    assert hist.loss[-1] < 0.7 * hist.loss[0]


def test_shift_images_against_numpy_roll():
    rng = np.random.default_rng(0)
    X = rng.random((3, 64)).astype(np.float32)
    imgs = X.reshape(3, 8, 8)
    want = np.roll(imgs, 1, axis=2)
    want[:, :, 0] = 0
    assert np.array_equal(conv.shift_images(X, dx=1).reshape(3, 8, 8), want)
    want = np.roll(imgs, -2, axis=1)
    want[:, -2:, :] = 0
    assert np.array_equal(conv.shift_images(X, dy=-2).reshape(3, 8, 8), want)
    assert np.array_equal(conv.shift_images(X), X)
    back = conv.shift_images(conv.shift_images(X, dx=1, dy=1), dx=-1, dy=-1).reshape(3, 8, 8)
    assert np.array_equal(back[:, :7, :7], imgs[:, :7, :7]) and not back[:, 7].any() and not back[:, :, 7].any()


def test_errors_name_the_value():
    with pytest.raises(ValueError, match=r"X has 10 columns, but shape=\(8, 8\)"):
        conv.shift_images(np.zeros((2, 10)), 1)
    with pytest.raises(ValueError, match="not divisible by 2\\*\\*len\\(channels\\)=8"):
        conv.ConvAutoencoder(4, image_shape=(12, 12), channels=(4, 4, 4))
    with pytest.raises(ValueError, match="n_components=0"):
        conv.ConvAutoencoder(0)
    with pytest.raises(TypeError, match="must be a torch.nn.Module"):
        conv.count_parameters("net")
    with pytest.raises(ValueError, match="activation='softmaxx'"):
        conv.ConvAutoencoder(4, out_activation="softmaxx")
