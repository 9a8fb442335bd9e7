"""Display names of the traffic study's models and data sets, shared by its tables and figures."""

from __future__ import annotations

__all__: list[str] = []

STYLE = {  # model -> (label, colour, line style)
    "truth": ("truth", "black", "--"),
    "triangle_robust": ("triangle, robust LS", "tab:blue", "-"),
    "triangle_lsq": ("triangle, plain LS", "tab:cyan", "-"),
    "pwl_1": ("PWL least squares, 1 knot", "tab:olive", "-"),
    "pwl_1_concave": ("PWL least squares, 1 knot, concave", "tab:brown", ":"),
    "pwl_3": ("PWL least squares, 3 knots", "tab:purple", "-"),
    "pwl_3_concave": ("PWL least squares, 3 knots, concave", "tab:pink", ":"),
    "relu": ("ReLU network", "tab:red", "-"),
    "tanh": ("tanh network", "tab:green", "-"),
}
DATASETS = {
    "noise_free": "synthetic, noise-free",
    "synthetic_30": "synthetic, 30 % congested",
    "synthetic_10": "synthetic, 10 % congested",
    "uxsim": "UXsim bottleneck",
    "user": "your detector data",
}
