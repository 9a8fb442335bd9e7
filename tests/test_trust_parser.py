"""Networks the parser cannot read exactly are refused at every public entry point.

The parser (``pwlmodels.network._parse.parse_sequential``) reads a network's function
from its layers. A module whose class overrides ``forward`` of the torch class
it derives from, a forward hook, Dropout or BatchNorm1d in training mode, or
parameters that hold no dense real values would make it read another function,
which relu_to_spline, regions, verification and the files would then certify or
write. One test per hostile input, each over every entry point; a control test
shows the same networks built from torch's own classes pass.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from torch import nn

from pwlmodels import relu_to_spline
from pwlmodels.io import save_model, to_onnx
from pwlmodels.regions import (
    activation_pattern,
    linear_region,
    local_affine,
    partition,
    region_radius,
)
from pwlmodels.relu import evaluate
from pwlmodels.verify import local_robustness, maximize, minimize, prove_bound, prune

HAS_ONNX = importlib.util.find_spec("onnx") is not None

_PARSED = {
    "relu_to_spline": lambda net, tmp: relu_to_spline(net),
    "activation_pattern": lambda net, tmp: activation_pattern(net, [[0.5]]),
    "local_affine": lambda net, tmp: local_affine(net, [[0.5]]),
    "linear_region": lambda net, tmp: linear_region(net, [0.5]),
    "region_radius": lambda net, tmp: region_radius(net, [[0.5]]),
    "partition": lambda net, tmp: partition(net, -2.0, 2.0),
    "maximize": lambda net, tmp: maximize(net, -2.0, 2.0),
    "minimize": lambda net, tmp: minimize(net, -2.0, 2.0),
    "prove_bound": lambda net, tmp: prove_bound(net, -2.0, 2.0, 100.0),
    "local_robustness": lambda net, tmp: local_robustness(_classifier(net), [0.5], 0.1),
    "prune": lambda net, tmp: prune(net, -2.0, 2.0),
}
PARSED = [pytest.param(call, id=name) for name, call in _PARSED.items()]
FILES = [
    pytest.param(lambda net, tmp: save_model(net, tmp / "net.pt"), id="save_model"),
    pytest.param(
        lambda net, tmp: to_onnx(net, tmp / "net.onnx"),
        id="to_onnx",
        marks=pytest.mark.skipif(not HAS_ONNX, reason="the optional onnx extra is absent"),
    ),
]
every_entry = pytest.mark.parametrize("entry", PARSED + FILES)
parsed_entry = pytest.mark.parametrize("entry", PARSED)


def _classifier(net: nn.Sequential) -> nn.Sequential:
    """``net`` with two outputs, by a layer appended in place (the paths of the others kept)."""
    return net.append(nn.Linear(1, 2, dtype=torch.float64))


def _fill(net: nn.Module) -> nn.Module:
    with torch.no_grad():
        for layer in net.modules():
            if isinstance(layer, nn.Linear):
                n_out, n_in = layer.weight.shape
                w = torch.linspace(-1.0, 1.5, n_out * n_in, dtype=torch.float64)
                layer.weight.copy_(w.reshape(n_out, n_in))
                layer.bias.copy_(torch.linspace(-0.5, 0.5, n_out, dtype=torch.float64))
    return net.eval()


def _layers(relu: type = nn.ReLU, linear: type = nn.Linear) -> list[nn.Module]:
    return [linear(1, 3, dtype=torch.float64), relu(), linear(3, 1, dtype=torch.float64)]


def _refused(entry, net, tmp_path, exc, match: str) -> None:
    with pytest.raises(exc, match=match):
        entry(net, tmp_path)
    assert list(tmp_path.iterdir()) == []  # no file written, not even a partial one


# ------------------------------------------------------------- the hostile classes
class Skip(nn.Sequential):
    """A residual block: x + layers(x), which no chain of its layers computes."""

    def forward(self, x):
        return x + super().forward(x)


class Reversed(nn.Sequential):
    """Sequential.forward kept, but it iterates the layers backwards."""

    def __iter__(self):
        return iter(reversed(list(self._modules.values())))


class AbsReLU(nn.ReLU):
    def forward(self, x):
        return x.abs()


class ShiftedLinear(nn.Linear):
    def forward(self, x):
        return super().forward(x) + 1.0


class LeakyReLU6(nn.ReLU6):
    def forward(self, x):
        return torch.where(x < 0, 0.1 * x, super().forward(x))


class Doubling(nn.Identity):
    def forward(self, x):
        return 2 * x


class NoisyDropout(nn.Dropout):
    def forward(self, x):
        return x + 0.5


class PlainReLU(nn.ReLU):
    """A subclass that keeps ReLU's forward: the same function, accepted."""


# --------------------------------------------------------------------------- control
@every_entry
def test_the_same_networks_from_torch_classes_are_accepted(entry, tmp_path):
    nets = [
        nn.Sequential(*_layers()),
        nn.Sequential(nn.Sequential(*_layers()[:2]), nn.Identity(), _layers()[2]),
        nn.Sequential(*_layers(relu=nn.ReLU6), nn.Dropout(0.5)),
        nn.Sequential(*_layers(relu=PlainReLU)),
    ]
    for net in nets:
        entry(_fill(net), tmp_path)


def test_a_subclass_that_keeps_forward_reads_as_its_parent():
    plain, sub = _fill(nn.Sequential(*_layers())), _fill(nn.Sequential(*_layers(PlainReLU)))
    x = np.linspace(-3.0, 3.0, 61)
    np.testing.assert_array_equal(relu_to_spline(sub)(x), relu_to_spline(plain)(x))
    np.testing.assert_allclose(relu_to_spline(sub)(x), evaluate(sub, x), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------- overridden forward
@every_entry
def test_a_residual_sequential_subclass_is_refused(entry, tmp_path):
    net = _fill(nn.Sequential(nn.Linear(1, 1, dtype=torch.float64), Skip(*_layers())))
    # what the parser would read, the chain of Skip's layers, is another function
    chain = _fill(nn.Sequential(nn.Linear(1, 1, dtype=torch.float64), *_layers()))
    x = np.linspace(-2.0, 2.0, 9)
    assert not np.allclose(evaluate(net, x), evaluate(chain, x))
    match = r"net\[1\] = Skip, a subclass of nn\.Sequential that overrides forward.*Supported:"
    _refused(entry, net, tmp_path, TypeError, match)


@every_entry
def test_a_top_level_sequential_subclass_is_refused(entry, tmp_path):
    net = _fill(Skip(*_layers()))
    _refused(entry, net, tmp_path, TypeError, r"got net = Skip, a subclass of nn\.Sequential")


@every_entry
def test_a_sequential_iterating_in_another_order_is_refused(entry, tmp_path):
    net = _fill(nn.Sequential(Reversed(*_layers())))
    _refused(entry, net, tmp_path, TypeError, r"net\[0\] = Reversed, .* overrides __iter__")


@every_entry
def test_a_relu_subclass_with_its_own_forward_is_refused(entry, tmp_path):
    net = _fill(nn.Sequential(*_layers(relu=AbsReLU)))
    _refused(entry, net, tmp_path, TypeError, r"net\[1\] = AbsReLU, a subclass of nn\.ReLU")


@every_entry
def test_a_linear_subclass_with_its_own_forward_is_refused(entry, tmp_path):
    net = _fill(nn.Sequential(*_layers(linear=ShiftedLinear)))
    _refused(entry, net, tmp_path, TypeError, r"net\[0\] = ShiftedLinear, a subclass of nn\.Linear")


@every_entry
def test_a_relu6_subclass_with_its_own_forward_is_refused(entry, tmp_path):
    net = _fill(nn.Sequential(*_layers(relu=LeakyReLU6)))
    _refused(entry, net, tmp_path, TypeError, r"net\[1\] = LeakyReLU6, a subclass of nn\.ReLU6")


@every_entry
def test_an_identity_subclass_with_its_own_forward_is_refused(entry, tmp_path):
    net = _fill(nn.Sequential(*_layers(), Doubling()))
    _refused(entry, net, tmp_path, TypeError, r"net\[3\] = Doubling, a subclass of nn\.Identity")


@every_entry
def test_an_eval_mode_dropout_subclass_with_its_own_forward_is_refused(entry, tmp_path):
    net = _fill(nn.Sequential(*_layers(), NoisyDropout(0.1)))
    _refused(entry, net, tmp_path, TypeError, r"net\[3\] = NoisyDropout, a subclass of nn\.Dropout")


@every_entry
def test_a_forward_replaced_on_the_instance_is_refused(entry, tmp_path):
    net = _fill(nn.Sequential(*_layers()))
    net[1].forward = torch.abs
    _refused(
        entry, net, tmp_path, TypeError, r"net\[1\] = ReLU with an instance attribute 'forward'"
    )


# ----------------------------------------------------------------------------- hooks
@every_entry
def test_a_forward_hook_on_a_layer_is_refused(entry, tmp_path):
    net = _fill(nn.Sequential(*_layers()))
    net[1].register_forward_hook(lambda module, args, out: out.abs())
    _refused(entry, net, tmp_path, TypeError, r"1 forward hook\(s\) on net\[1\] = ReLU")


@every_entry
def test_a_forward_pre_hook_on_a_nested_sequential_is_refused(entry, tmp_path):
    net = _fill(nn.Sequential(nn.Sequential(*_layers())))
    net[0].register_forward_pre_hook(lambda module, args: (args[0] + 1.0,))
    _refused(entry, net, tmp_path, TypeError, r"1 forward pre-hook\(s\) on net\[0\] = Sequential")


@every_entry
def test_a_global_forward_hook_is_refused(entry, tmp_path):
    net = _fill(nn.Sequential(*_layers()))
    handle = nn.modules.module.register_module_forward_hook(lambda module, args, out: out)
    try:
        _refused(entry, net, tmp_path, TypeError, r"global forward hook\(s\)")
    finally:
        handle.remove()


# --------------------------------------------------------------------- training mode
@parsed_entry
def test_training_mode_dropout_is_refused(entry, tmp_path):
    net = _fill(nn.Sequential(*_layers(), nn.Dropout(0.25))).train()
    _refused(entry, net, tmp_path, ValueError, r"training mode and net\[3\] is Dropout\(p=0\.25\)")


@parsed_entry
def test_training_mode_batchnorm_is_refused(entry, tmp_path):
    layers = _layers()
    net = _fill(nn.Sequential(*layers[:1], nn.BatchNorm1d(3, dtype=torch.float64), *layers[1:]))
    _refused(entry, net.train(), tmp_path, ValueError, r"training mode and net\[1\] is BatchNorm1d")


# ------------------------------------------------------------------- parameter kinds
@every_entry
def test_an_uninitialized_lazy_linear_is_refused(entry, tmp_path):
    net = nn.Sequential(nn.LazyLinear(3, dtype=torch.float64), nn.ReLU(), nn.Linear(3, 1))
    _refused(entry, net, tmp_path, ValueError, r"net\[0\] = LazyLinear with weight uninitialized")


@every_entry
def test_meta_device_parameters_are_refused(entry, tmp_path):
    net = nn.Sequential(*_layers()).to("meta")
    _refused(entry, net, tmp_path, TypeError, r"net\[0\]\.weight = a tensor on the meta device")


@every_entry
def test_a_sparse_weight_is_refused(entry, tmp_path):
    net = _fill(nn.Sequential(*_layers()))
    net[2].weight = nn.Parameter(net[2].weight.detach().to_sparse())
    _refused(entry, net, tmp_path, TypeError, r"net\[2\]\.weight = a sparse_coo tensor")


@every_entry
def test_complex_parameters_are_refused(entry, tmp_path):
    net = nn.Sequential(nn.Linear(1, 3, dtype=torch.complex128), nn.ReLU(), nn.Linear(3, 1))
    _refused(entry, net, tmp_path, TypeError, r"net\[0\]\.weight = a complex128 tensor")
