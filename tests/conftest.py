import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("AECOURSE_QUIET", "1")

import torch

# The course's models are tiny: one intra-op thread is much faster than two competing pools
# (aecourse.configure_cpu does the same in every chapter).
torch.set_num_threads(1)
