"""compare_activations: fairness, baselines and metrics checked on models with known errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pwlmodels import PiecewiseLinear, compare_activations, kink_estimate
from pwlmodels.compare import _Context

TENT = PiecewiseLinear([-0.5, 0.0, 0.5], [0.0, 1.0, 0.0], left_slope=0.0, right_slope=0.0)


def context(target, kinks=(0.0,), w=0.05, extrapolation=None) -> _Context:
    grid = np.linspace(-1.0, 1.0, 2001)
    return _Context(target, grid, target(grid), tuple(kinks), w, extrapolation, torch.device("cpu"))


def test_kink_estimate_is_exact_for_a_kink_and_nan_without_one():
    loc, left, right = kink_estimate(TENT, 0.02, 0.1)
    assert (loc, left, right) == pytest.approx((0.0, 2.0, -2.0), abs=1e-12)
    assert np.isnan(kink_estimate(lambda x: 3 * x, 0.0, 0.1)[0])


def test_metrics_of_a_shifted_model_are_known_in_closed_form():
    ctx = context(TENT, extrapolation=(1.0, 2.0))
    offset = 0.125
    row = ctx.metrics("m", 0, lambda x: TENT(x) + offset, None, 0.0, np.nan, 0)
    assert row["rmse"] == pytest.approx(offset) and row["max_error"] == pytest.approx(offset)
    assert row["derivative_rmse"] == pytest.approx(0.0, abs=1e-9)
    assert row["kink0_location_error"] == pytest.approx(0.0, abs=1e-12)
    assert row["extrapolation_rmse"] == pytest.approx(offset)
    delta = 0.02  # the kink moved right: location error delta, max error 2 * delta
    moved = ctx.metrics("m", 0, lambda x: TENT(x - delta), None, 0.0, np.nan, 0)
    assert moved["kink0_location_error"] == pytest.approx(delta, abs=1e-12)
    assert moved["kink0_max_error"] == pytest.approx(2 * delta, abs=1e-9)
    assert moved["kink0_derivative_error_4w"] == pytest.approx(0.0, abs=1e-6)
    assert moved["kink0_derivative_error_w/4"] == pytest.approx(4.0, abs=1e-6)


def test_comparison_is_fair_and_its_baselines_are_exact():
    x = np.linspace(-1.0, 1.0, 201)
    result = compare_activations(
        TENT,
        x_train=x,
        domain=(-1.0, 1.0),
        kinks=[0.0],
        hidden=(8,),
        seeds=(0, 1),
        epochs=200,
        lrs=(1e-2, 3e-2),
    )
    table = result.table.set_index(["model", "seed"])
    assert table.loc[("interpolant", 0), "max_error"] <= 1e-12  # exact network of the target
    assert table.loc[("fit_pwl", 0), "rmse"] <= 1e-8
    summary = result.summary()
    assert summary.loc["relu", ("n_params", "mean")] == summary.loc["tanh", ("n_params", "mean")]
    trained = result.table[result.table["model"].isin(["relu", "tanh"])]
    assert len(trained) == 4 and trained["lr"].isin([1e-2, 3e-2]).all()
    metrics = trained.drop(columns=["model", "device", "kink0_breakpoints"])
    assert np.isfinite(metrics.to_numpy(dtype=float)).all()
    assert (result.table.loc[result.table["model"] == "relu", "kink0_breakpoints"] >= 0).all()
    assert set(result.curves) == {"x", "target", "relu", "tanh", "interpolant", "fit_pwl"}


@pytest.mark.parametrize("batched", [True, False])
def test_training_is_deterministic_on_cpu(batched):
    x = np.linspace(-1.0, 1.0, 64)
    kw = dict(
        x_train=x,
        domain=(-1.0, 1.0),
        kinks=[0.0],
        hidden=(4,),
        seeds=(3, 1),
        epochs=50,
        lrs=(1e-2,),
        activations=("relu",),
        batched=batched,
    )
    a = compare_activations(np.abs, **kw).table.drop(columns="train_seconds")
    b = compare_activations(np.abs, **kw).table.drop(columns="train_seconds")
    assert a.equals(b)


def test_the_networks_handed_back_are_the_ones_the_table_measures():
    x = np.linspace(-1.0, 1.0, 64)
    result = compare_activations(
        np.abs, x_train=x, domain=(-1.0, 1.0), hidden=(4,), seeds=(2, 5), epochs=20, lrs=(1e-2,)
    )
    assert sorted(result.networks) == [("relu", 2), ("relu", 5), ("tanh", 2), ("tanh", 5)]
    table = result.table.set_index(["model", "seed"])
    grid = result.curves["x"]
    for (act, seed), net in result.networks.items():
        assert not net.training
        with torch.no_grad():
            pred = net(torch.as_tensor(grid, dtype=torch.float32)[:, None]).double().numpy()[:, 0]
        rmse = np.sqrt(np.mean((pred - np.abs(grid)) ** 2))
        assert rmse == pytest.approx(table.loc[(act, seed), "rmse"], rel=1e-12)
        if seed == 2:  # the first seed's curve
            np.testing.assert_array_equal(result.curves[act], pred)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(domain=(1.0, -1.0)), ValueError, r"`domain` must be"),
        (dict(domain=(-1.0, 1.0), kink_window=0.0), ValueError, r"`kink_window` must be positive"),
        (dict(domain=(-1.0, 1.0), y_train=np.zeros(3)), ValueError, r"`y_train` must have one"),
        (dict(domain=(-1.0, 1.0), activations=("swish",)), ValueError, r"activation"),
    ],
)
def test_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        compare_activations(
            np.abs, x_train=np.linspace(-1, 1, 20), epochs=2, seeds=(0,), lrs=(1e-2,), **kwargs
        )


def test_progress_bar_counts_every_network_trained_on_stderr(capsys):
    x = np.linspace(-1.0, 1.0, 50)
    kw = {"x_train": x, "domain": (-1.0, 1.0), "hidden": (4,), "epochs": 5}
    compare_activations(np.abs, seeds=(0, 1), lrs=(1e-2, 3e-2), progress=True, **kw)
    err = capsys.readouterr().err
    assert "compare_activations" in err and "8/8" in err  # 2 activations x (2 lrs + 2 seeds)
    compare_activations(np.abs, seeds=(0,), lrs=(1e-2,), **kw)
    assert capsys.readouterr().err == ""


def test_progress_must_be_a_bool():
    x = np.linspace(-1.0, 1.0, 50)
    with pytest.raises(TypeError, match="`progress` must be True or False"):
        compare_activations(np.abs, x_train=x, domain=(-1.0, 1.0), progress="yes")
