import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("AECOURSE_QUIET", "1")
