"""Convolutional autoencoders for small images, with the verbs of :class:`aecourse.MLPAutoencoder`.

A convolution applies one small filter at every position of the image: the same weights everywhere (weight
sharing) and each output seeing only a small neighbourhood (locality). Masci et al. (2011) stacked such
layers into convolutional autoencoders. :class:`ConvAutoencoder` takes and returns flattened images (B, H*W),
so :func:`aecourse.train`, PCA and the MLP autoencoder all see the data in the same shape. Also here:
``shift_images`` (translate images with zero fill) and ``count_parameters``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ._validation import as_2d_float, check_int
from .models import _check_sizes, make_activation

__all__ = ["ConvAutoencoder", "count_parameters", "shift_images"]


def count_parameters(model: nn.Module) -> int:
    """The number of trainable scalars in ``model``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model of type {type(model).__name__} must be a torch.nn.Module, e.g. an MLPAutoencoder.")
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def shift_images(X, dx: int = 0, dy: int = 0, shape: tuple[int, int] = (8, 8)) -> np.ndarray:
    """Translate flattened images by ``dx`` pixels to the right and ``dy`` pixels down, filling with zeros.

    X : (N, H*W) array; returns a float32 array of the same shape. Pixels pushed past the border are lost.
    """
    X = as_2d_float(X, dtype=np.float32)
    H, W = (check_int(s, "shape entry", low=1) for s in shape)
    if X.shape[1] != H * W:
        raise ValueError(f"X has {X.shape[1]} columns, but shape={tuple(shape)} needs H*W={H * W}; "
                         "pass the image shape the rows were flattened from.")
    dx, dy = check_int(dx, "dx", low=-W, high=W), check_int(dy, "dy", low=-H, high=H)
    imgs = X.reshape(-1, H, W)                                           # (N, H, W)
    out = np.zeros_like(imgs)
    src_r, dst_r = slice(max(0, -dy), H - max(0, dy)), slice(max(0, dy), H - max(0, -dy))
    src_c, dst_c = slice(max(0, -dx), W - max(0, dx)), slice(max(0, dx), W - max(0, -dx))
    out[:, dst_r, dst_c] = imgs[:, src_r, src_c]
    return out.reshape(len(X), H * W)


class ConvAutoencoder(nn.Module):
    """A convolutional autoencoder for flattened one-channel images, with a linear code layer.

    Encoder: each entry of ``channels`` adds a 3x3 convolution with stride 2 (halving height and width) and a
    ReLU; a linear layer maps the last feature map to the code of width ``n_components``. Decoder: the mirror
    image, a linear layer back to the feature map, then 3x3 transposed convolutions with stride 2 (doubling
    height and width), ReLUs between them and ``out_activation`` at the end.

    Parameters
    ----------
    n_components : code width p.
    image_shape : (H, W) of the images; H and W must be divisible by 2 ** len(channels).
    channels : feature maps of the encoder's convolutions, e.g. (8, 16); the decoder mirrors them.
    out_activation : activation on the reconstruction, e.g. ``"sigmoid"`` for pixels in [0, 1].
    seed : seeds the weights, so the same seed gives the same network.
    """

    def __init__(self, n_components: int = 10, image_shape: tuple[int, int] = (8, 8),
                 channels: Sequence[int] = (8, 16), out_activation: str | None = "sigmoid",
                 seed: int | None = 0):
        super().__init__()
        n_components = check_int(n_components, "n_components", low=1, hint="the code needs at least one unit")
        channels = _check_sizes(channels, "channels")
        if len(image_shape) != 2:
            raise ValueError(f"image_shape={image_shape!r} must be (height, width), e.g. (8, 8).")
        H, W = (check_int(s, "image_shape entry", low=1) for s in image_shape)
        f = 2 ** len(channels)
        if H % f or W % f:
            raise ValueError(f"image_shape={(H, W)} is not divisible by 2**len(channels)={f}; use fewer "
                             f"channels entries (each halves the image) or pad the images.")
        make_activation(out_activation)
        self.image_shape, self.channels, self.n_components = (H, W), channels, n_components
        self.n_features = H * W
        self._map = (channels[-1], H // f, W // f)                        # the last feature map (C, h, w)
        if seed is not None:
            with torch.random.fork_rng(devices=[]):                      # leave the caller's stream alone
                torch.default_generator.manual_seed(seed)
                self._build(out_activation)
        else:
            self._build(out_activation)

    def _build(self, out_activation):
        chans = (1, *self.channels)
        enc: list[nn.Module] = []
        for c_in, c_out in zip(chans[:-1], chans[1:]):
            enc += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.ReLU()]    # (B, c_in, h, w) -> (B, c_out, h/2, w/2)
        n_map = int(np.prod(self._map))
        self.encoder_conv = nn.Sequential(*enc)
        self.encoder_linear = nn.Linear(n_map, self.n_components)               # (B, C*h*w) -> (B, p)
        self.decoder_linear = nn.Sequential(nn.Linear(self.n_components, n_map), nn.ReLU())
        dec: list[nn.Module] = []
        rev = chans[::-1]
        for i, (c_in, c_out) in enumerate(zip(rev[:-1], rev[1:])):
            # output_padding=1 makes each transposed convolution exactly double the height and width.
            dec.append(nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1))
            if i < len(rev) - 2:
                dec.append(nn.ReLU())
        if out_activation not in (None, "identity", "linear"):
            dec.append(make_activation(out_activation))
        self.decoder_conv = nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder_conv(x.reshape(len(x), 1, *self.image_shape))      # (B, C, h, w)
        return self.encoder_linear(h.flatten(1))                             # (B, p)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = self.decoder_linear(z).reshape(len(z), *self._map)              # (B, C, h, w)
        return self.decoder_conv(h).flatten(1)                               # (B, H*W)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))
