"""aecourse: the small PyTorch library behind the executable autoencoder course.

Modules: ``data`` (bundled and generated data sets, corruptions), ``models`` (fully connected
autoencoders), ``train`` (the training loop), ``optim`` (FlatAdam, the loop's default optimiser),
``decomposition`` (PCA and autoencoder reducers with scikit-learn's verbs), ``metrics``, ``plotting``,
``utils`` (seeds, devices, showing source), ``sparse`` (sparsity and contractive penalties, the top-k
activation, one-hidden-layer autoencoders, Jacobians), ``interpretability`` (recording and splicing
activations, measures of sparse autoencoders), ``diffusion`` (noise schedules, denoising score matching,
DDPM and DDIM samplers, MMD), ``conv`` (convolutional autoencoders, image shifts), ``anomaly`` (anomaly
scores, the ROC AUC, thresholds), ``retrieval`` (nearest neighbours, precision@k, binary codes and Hamming
search) and ``exercises`` (the checkers).
"""
from .data import corrupt, digits_matrix, load_digits, make_gaussian_clouds, make_s_curve, make_swiss_roll
from .decomposition import PCA, Autoencoder
from .linear import LinearAutoencoder
from .metrics import mse, principal_angles, psnr
from .models import MLPAutoencoder, init_weights, mlp
from .neuron import layer_gradient_norms, train_neuron
from .optim import FlatAdam
from .sparse import OneLayerAutoencoder
from .train import History, reconstruction_loss, to_tensor, train
from .utils import configure_cpu, describe_device, get_device, glue, in_colab, set_seed, setup, show_source
from .vae import VAE, elbo_loss
from . import diffusion, interpretability, sparse  # noqa: E402  (topic modules, used as aecourse.sparse.*)
from . import anomaly, conv, retrieval  # noqa: E402  (topic modules)

__version__ = "0.1.0"

__all__ = [
    "PCA", "Autoencoder", "FlatAdam", "LinearAutoencoder", "MLPAutoencoder", "OneLayerAutoencoder", "VAE",
    "elbo_loss", "train_neuron",
    "layer_gradient_norms", "History", "mlp", "init_weights", "train", "reconstruction_loss",
    "to_tensor", "load_digits", "digits_matrix", "make_swiss_roll", "make_s_curve", "make_gaussian_clouds",
    "corrupt", "mse", "psnr", "principal_angles", "set_seed", "get_device", "describe_device", "configure_cpu",
    "in_colab", "show_source", "setup", "glue", "__version__",
]
