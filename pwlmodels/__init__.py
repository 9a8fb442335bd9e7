"""pwlmodels: continuous piecewise-linear functions as exact ReLU networks, and back.

The names below are loaded when first used (PEP 562): ``import pwlmodels``
imports neither torch nor pandas nor matplotlib, and the numpy core
(:class:`PiecewiseLinear`, the algebra, :func:`fit_pwl`, :class:`PiecewiseAffine`,
:class:`Polytope`) works without torch installed.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

try:
    __version__ = version("pwlmodels")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

# public name -> the module that defines it
_WHERE = {
    "PiecewiseLinear": "spline",
    "PiecewiseAffine": "pwa",
    "Polytope": "_geometry",
    **dict.fromkeys(("compose", "maximum", "minimum"), "_algebra"),
    **dict.fromkeys(("PWLFit", "fit_many", "fit_pwl", "select_knots"), "fit"),
    **dict.fromkeys(
        (
            "PrecisionWarning",
            "SplineModule",
            "evaluate",
            "pwa_rounding_bound",
            "pwa_to_relu",
            "relu_to_spline",
            "rounding_bound",
            "spline_to_relu",
        ),
        "relu",
    ),
    **dict.fromkeys(
        (
            "Partition",
            "activation_pattern",
            "linear_region",
            "local_affine",
            "partition",
            "region_radius",
            "relu_to_pwa",
        ),
        "regions",
    ),
    **dict.fromkeys(
        (
            "ProofResult",
            "RobustnessResult",
            "SolverInconsistencyWarning",
            "VerificationResult",
            "dead_units_on_box",
            "local_robustness",
            "maximize",
            "minimize",
            "prove_bound",
            "prune",
        ),
        "verify",
    ),
    **dict.fromkeys(
        ("from_onnx", "load_model", "load_spline", "save_model", "save_spline", "to_onnx"), "io"
    ),
    **dict.fromkeys(
        (
            "count_parameters",
            "hidden_for_parameters",
            "make_mlp",
            "resolve_device",
            "train",
            "train_many",
        ),
        "nets",
    ),
    **dict.fromkeys(("Comparison", "compare_activations", "kink_estimate"), "compare"),
    **dict.fromkeys(
        (
            "BiasWarming",
            "activation_sparsity",
            "check_homogeneity",
            "dead_units",
            "expected_activation",
            "gradient_flow",
        ),
        "diagnostics",
    ),
}
_SUBMODULES = (
    "compare",
    "diagnostics",
    "fit",
    "io",
    "nets",
    "plotting",
    "pwa",
    "regions",
    "relu",
    "spline",
    "verify",
)

__all__ = [
    "BiasWarming",
    "Comparison",
    "PWLFit",
    "Partition",
    "PiecewiseAffine",
    "PiecewiseLinear",
    "Polytope",
    "PrecisionWarning",
    "ProofResult",
    "RobustnessResult",
    "SolverInconsistencyWarning",
    "SplineModule",
    "VerificationResult",
    "__version__",
    "activation_pattern",
    "activation_sparsity",
    "check_homogeneity",
    "compare_activations",
    "compose",
    "count_parameters",
    "dead_units",
    "dead_units_on_box",
    "evaluate",
    "expected_activation",
    "fit_many",
    "fit_pwl",
    "from_onnx",
    "gradient_flow",
    "hidden_for_parameters",
    "io",
    "kink_estimate",
    "linear_region",
    "load_model",
    "load_spline",
    "local_affine",
    "local_robustness",
    "make_mlp",
    "maximize",
    "maximum",
    "minimize",
    "minimum",
    "partition",
    "prove_bound",
    "pwa_rounding_bound",
    "pwa_to_relu",
    "prune",
    "region_radius",
    "relu_to_pwa",
    "relu_to_spline",
    "resolve_device",
    "rounding_bound",
    "save_model",
    "save_spline",
    "select_knots",
    "spline_to_relu",
    "to_onnx",
    "train",
    "train_many",
]


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from . import io
    from ._algebra import compose, maximum, minimum
    from ._geometry import Polytope
    from .compare import Comparison, compare_activations, kink_estimate
    from .diagnostics import (
        BiasWarming,
        activation_sparsity,
        check_homogeneity,
        dead_units,
        expected_activation,
        gradient_flow,
    )
    from .fit import PWLFit, fit_many, fit_pwl, select_knots
    from .io import from_onnx, load_model, load_spline, save_model, save_spline, to_onnx
    from .nets import (
        count_parameters,
        hidden_for_parameters,
        make_mlp,
        resolve_device,
        train,
        train_many,
    )
    from .pwa import PiecewiseAffine
    from .regions import (
        Partition,
        activation_pattern,
        linear_region,
        local_affine,
        partition,
        region_radius,
        relu_to_pwa,
    )
    from .relu import (
        PrecisionWarning,
        SplineModule,
        evaluate,
        pwa_rounding_bound,
        pwa_to_relu,
        relu_to_spline,
        rounding_bound,
        spline_to_relu,
    )
    from .spline import PiecewiseLinear
    from .verify import (
        ProofResult,
        RobustnessResult,
        SolverInconsistencyWarning,
        VerificationResult,
        dead_units_on_box,
        local_robustness,
        maximize,
        minimize,
        prove_bound,
        prune,
    )
