"""The batched Euler-residual solver, the input transforms and the neural-solver accuracy study."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from applications.economics import IFPParams, solve_network, solve_networks
from applications.economics._accuracy import (
    SMOKE,
    Budget,
    _root,
    accuracy_study,
    accuracy_table,
    ge_table,
)
from applications.economics._net import asset_input
from pwlmodels import make_mlp

ROOT = Path(__file__).resolve().parents[2]
KW = {"hidden": (8, 8), "steps": 40, "n_points": 48, "resimulate_every": 7, "lr": 3e-3}


@pytest.mark.parametrize("activation", ["silu", "relu"])
def test_each_member_trains_as_solve_network_would(activation):
    p = IFPParams()
    many = solve_networks(p, (5, 2), activation=activation, input_transform="asinh", **KW)
    assert [m.seed for m in many] == [5, 2]
    for member in many:
        one = solve_network(
            p, optimizer="adam", seed=member.seed, activation=activation,
            input_transform="asinh", **KW,
        )  # fmt: skip
        for a, b in zip(one.net.parameters(), member.net.parameters(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(member.history["loss"], one.history["loss"], rtol=1e-9)
        assert member.input_transform == "asinh" and member.history["step"].tolist()[-1] == 40


def test_members_differ_by_seed_and_train():
    a, b = solve_networks(IFPParams(), (0, 1), **KW)
    assert not torch.equal(a.net[0].weight, b.net[0].weight)
    assert a.history["loss"].iloc[-1] < a.history["loss"].iloc[0]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"seeds": ()}, ValueError, "`seeds` must hold at least one seed"),
        ({"seeds": (1, 1)}, ValueError, "`seeds` must be distinct"),
        ({"seeds": (True,)}, TypeError, r"`seeds\[0\]` must be an integer"),
        ({"seeds": 3}, TypeError, "`seeds` must be a sequence"),
        ({"steps": 0}, ValueError, "`steps` must be >= 1"),
        ({"activation": "swish"}, ValueError, "`activation` must be one of"),
        ({"input_transform": "sqrt"}, ValueError, "`input_transform` must be one of"),
        ({"lr": -1.0}, ValueError, "`lr` must be > 0"),
    ],
)
def test_solve_networks_refuses_bad_arguments(kwargs, error, match):
    args = {"seeds": (0,), "hidden": (4,), "steps": 1, "n_points": 8} | kwargs
    seeds = args.pop("seeds")
    with pytest.raises(error, match=match):
        solve_networks(IFPParams(), seeds, **args)


def test_solve_network_refuses_an_unknown_transform():
    with pytest.raises(ValueError, match="`input_transform` must be one of 'linear', 'log'"):
        solve_network(IFPParams(), steps=1, input_transform="exp")


@pytest.mark.parametrize("transform", ["linear", "log", "asinh"])
def test_asset_input_maps_the_domain_onto_minus_one_one(transform):
    dom = (-0.5, 40.0)
    a = np.array([-0.5, 0.0, 3.0, 40.0])
    z = asset_input(a, dom, 2.0, transform)
    assert z[0] == pytest.approx(-1.0) and z[-1] == pytest.approx(1.0)
    assert np.all(np.diff(z) > 0)
    g = {"linear": lambda u: u, "log": np.log1p, "asinh": np.arcsinh}[transform]
    u = (a + 0.5) / (np.inf if transform == "linear" else 2.0)
    if transform != "linear":
        np.testing.assert_allclose(z, 2 * g(u) / g(40.5 / 2.0) - 1, rtol=1e-14)
    zt = asset_input(torch.as_tensor(a), dom, 2.0, transform)
    np.testing.assert_allclose(zt.numpy(), z, rtol=1e-14)


def test_linear_transform_is_the_infinite_scale():
    sol = solve_network(IFPParams(), steps=1, n_points=16, hidden=(4,), input_transform="linear")
    assert sol.asset_scale == np.inf and sol.input_transform == "linear"
    sol = solve_network(IFPParams(), steps=1, n_points=16, hidden=(4,), asset_scale=np.inf)
    assert sol.input_transform == "linear"


def test_silu_is_an_activation_of_make_mlp():
    net = make_mlp(1, (3,), 1, activation="silu", seed=0)
    assert isinstance(net[1], torch.nn.SiLU)


def test_root_of_the_interpolated_excess():
    r = np.array([0.03, 0.01, 0.02])
    assert _root(r, np.array([3.0, -1.0, 1.0])) == pytest.approx(0.015)
    assert np.isnan(_root(r, np.array([1.0, 2.0, 3.0])))  # never clears
    assert _root(np.array([0.0, 1.0]), np.array([0.0, 0.0])) == 0.0
    assert _root(np.array([0.0, 1.0, 2.0]), np.array([-1.0, 0.0, 1.0])) == 1.0
    assert np.isnan(_root(r, np.array([3.0, -1.0, 4.0])))  # supply falls somewhere: no r*


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"widths": ()}, ValueError, "`widths` must hold at least one entry"),
        ({"widths": (8, 0)}, ValueError, r"`widths\[1\]` must be >= 1"),
        ({"widths": (8.0,)}, TypeError, r"`widths\[0\]` must be an integer"),
        ({"widths": 8}, TypeError, "`widths` must be a tuple; got int"),
        ({"activations": ("relu", "swish")}, ValueError, r"`activations\[1\]` must be one of"),
        ({"activations": "relu"}, TypeError, "`activations` must be a tuple; got str"),
        ({"seeds": ()}, ValueError, "`seeds` must hold at least one seed"),
        ({"seeds": (0, 0)}, ValueError, "`seeds` must be distinct"),
        ({"seeds": (-1,)}, ValueError, r"`seeds\[0\]` must be >= 0"),
        ({"lrs": (1e-3, 0.0)}, ValueError, r"`lrs\[1\]` must be > 0"),
        ({"lrs": (np.nan,)}, ValueError, r"`lrs\[0\]` must be finite"),
        ({"lrs": ()}, ValueError, "`lrs` must hold at least one entry"),
        ({"transforms": ("sqrt",)}, ValueError, r"`transforms\[0\]` must be one of"),
        ({"ge_offsets_bp": (np.inf,)}, ValueError, r"`ge_offsets_bp\[0\]` must be finite"),
        ({"steps": 0}, ValueError, "`steps` must be >= 1"),
        ({"polish": -1}, ValueError, "`polish` must be >= 0"),
        ({"tune_steps": True}, TypeError, "`tune_steps` must be an integer"),
        ({"n_points": 1}, ValueError, "`n_points` must be >= 2"),
        ({"egm_n": 10}, ValueError, "`egm_n` must be >= 50"),
        ({"near": 0.0}, ValueError, "`near` must be > 0"),
        ({"near": "1"}, TypeError, "`near` must be a real number"),
    ],
)
def test_budget_refuses_bad_fields_naming_them(kwargs, error, match):
    with pytest.raises(error, match=match):
        Budget(**kwargs)


def test_budget_keeps_plain_values_and_the_published_sizes():
    b = Budget(widths=np.array([8, 16]), seeds=[np.int64(2)], lrs=[np.float64(1e-3)])
    assert b.widths == (8, 16) and b.seeds == (2,) and b.lrs == (1e-3,)
    assert type(b.widths[0]) is int and type(b.lrs[0]) is float
    assert Budget() == Budget(widths=(8, 16, 32, 64), steps=10_000, egm_n=1000)


def _ge(egm_excess, net_excess):
    rates = [0.01, 0.02, 0.03]
    excess = [*egm_excess, *net_excess]
    return pd.DataFrame({
        "model": ["egm"] * 3 + ["relu"] * 3, "seed": [-1] * 3 + [0] * 3,
        "width": [0] * 3 + [8] * 3, "stage": ["-"] * 3 + ["adam"] * 3, "r": rates * 2,
        "excess": excess, "offset_bp": [-100.0, 0.0, 100.0] * 2, "demand": [5.0] * 6,
        "supply": [5.0 + e for e in excess],
    })  # fmt: skip


def test_ge_table_gives_nan_for_an_excess_that_never_crosses_zero():
    out = ge_table(_ge([-1.0, 1.0, 3.0], [1.0, 2.0, 3.0]), r_brent=0.015)
    assert out.loc[0, "r_star"] == pytest.approx(0.015)
    assert np.isnan(out.loc[1, "r_star"]) and np.isnan(out.loc[1, "gap_bp"])
    assert out["supply_error_pct"].tolist() == [20.0, 40.0]  # excess / demand at offset 0
    assert out["increasing"].all()


def test_ge_table_gives_no_r_star_for_a_runaway_supply():
    # rises with r and crosses zero, but at the top rate supply is 45 > 5 x EGM's 8
    out = ge_table(_ge([-1.0, 1.0, 3.0], [-1.0, 1.0, 40.0]), r_brent=0.015)
    assert out.loc[1, "runaway"] and out.loc[1, "increasing"] and np.isnan(out.loc[1, "r_star"])
    out = ge_table(_ge([-1.0, 1.0, 3.0], [-1.0, 1.0, 35.0]), r_brent=0.015)  # 5 x: kept
    assert not out.loc[1, "runaway"] and out.loc[1, "r_star"] == pytest.approx(0.015)


def test_ge_table_counts_crossings_of_a_falling_supply():
    out = ge_table(_ge([-1.0, 1.0, 3.0], [-1.0, 2.0, 1.0]), r_brent=0.015)  # falls, crosses once
    assert out["crossings"].tolist() == [1, 1] and not out.loc[1, "increasing"]
    assert np.isnan(out.loc[1, "r_star"])  # the conservative rule: no r*
    out = ge_table(_ge([-1.0, 0.0, 3.0], [1.0, -1.0, 1.0]), r_brent=0.015)
    assert out["crossings"].tolist() == [1, 2]  # a zero is not a crossing of its own


def test_ge_table_without_an_egm_crossing_gives_nan_gaps():
    out = ge_table(_ge([1.0, 2.0, 3.0], [-1.0, 1.0, 3.0]), r_brent=0.015)
    assert out.loc[1, "r_star"] == pytest.approx(0.015) and out["gap_bp"].isna().all()


@pytest.mark.parametrize(
    ("ge", "error", "match"),
    [
        ("table", TypeError, "`ge` must be a pandas DataFrame"),
        (_ge([-1.0, 1.0, 3.0], [1.0] * 3).drop(columns="excess"), ValueError, "lacks"),
        (_ge([-1.0, 1.0, 3.0], [1.0] * 3).iloc[3:], ValueError, "`ge` must hold EGM's rows"),
    ],
)
def test_ge_table_refuses_a_table_it_cannot_read(ge, error, match):
    with pytest.raises(error, match=match):
        ge_table(ge, r_brent=0.015)


@pytest.fixture(scope="module")
def smoke():
    return accuracy_study(SMOKE)


def test_accuracy_study_tables(smoke):
    members = smoke["members"]
    n = len(SMOKE.activations) * len(SMOKE.widths) * len(SMOKE.seeds) * 2
    assert len(members) == n and set(members["stage"]) == {"adam", "adam+lbfgs"}
    tuning = smoke["tuning"]
    assert len(tuning) == len(SMOKE.activations) * len(SMOKE.lrs) * len(SMOKE.transforms)
    for act, g in members.groupby("activation"):  # the tuned lr and transform were used
        best = tuning[tuning["activation"] == act].sort_values("score").iloc[0]
        assert set(g["transform"]) == {best["transform"]} and set(g["lr"]) == {best["lr"]}
    cols = [c for c in members.columns if c.startswith("log10_")]
    assert np.isfinite(members[cols].to_numpy()).all()
    egm = smoke["egm"].iloc[0]
    assert egm["log10_mean_all"] < members["log10_mean_all"].min()  # EGM is the ground truth
    summary = accuracy_table(members)
    assert len(summary) == n // len(SMOKE.seeds)
    ge = smoke["ge"]
    np.testing.assert_allclose(ge["supply"] - ge["demand"], ge["excess"])
    assert sorted(set(ge["offset_bp"])) == sorted((0.0, *SMOKE.ge_offsets_bp))
    table = ge_table(ge, float(egm["r_brent"]))
    row = table[table["model"] == "egm"].iloc[0]
    assert row["gap_bp"] == 0.0 and abs(row["gap_brent_bp"]) < 1.0  # interpolation error
    assert row["increasing"] and abs(row["supply_error_pct"]) < 1.0  # 200 nodes: 0.4 %
    assert table.loc[~table["increasing"] | table["runaway"], "r_star"].isna().all()


def test_distribution_rows_match_solve_aiyagari_for_egm(smoke):
    from applications.economics import solve_aiyagari
    from applications.economics._ge import PAGE_PARAMS

    dist = smoke["distribution"]
    n_nets = len(SMOKE.activations) * len(SMOKE.seeds)
    assert len(dist) == 1 + n_nets and dist.iloc[0]["model"] == "egm"
    eq = solve_aiyagari(PAGE_PARAMS, n=SMOKE.egm_n)
    egm = dist.iloc[0]  # the same policy, histogram on the ergodic set's grid (not eq's): close
    assert egm["gini"] == pytest.approx(eq.gini, abs=5e-3)
    assert egm["hand_to_mouth"] == pytest.approx(eq.share_at_limit, abs=5e-3)
    mpc = egm[[f"mpc_q{k}" for k in range(1, 6)]].to_numpy(float)
    np.testing.assert_allclose(mpc, eq.mpc_by_quintile, atol=5e-3)
    values = dist.drop(columns=["model", "width", "stage", "seed"]).to_numpy(float)
    assert np.isfinite(values).all() and ((values >= 0) & (values <= 1 + 1e-12)).all()


def test_accuracy_study_is_reproducible_with_fixed_seeds(smoke):
    again = accuracy_study(SMOKE, processes=2)
    for name in ("tuning", "members", "ge", "egm", "distribution"):
        a, b = smoke[name], again[name]
        drop = [c for c in ("seconds",) if c in a.columns]
        pd.testing.assert_frame_equal(a.drop(columns=drop), b.drop(columns=drop))


def test_bench_neural_solvers_quick_writes_its_tables(tmp_path):
    script = ROOT / "benchmarks" / "bench_neural_solvers.py"
    cmd = [sys.executable, str(script), "--quick", "--out", str(tmp_path), "--processes", "1"]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600)
    for name in ("members", "tuning", "ge", "egm"):
        table = pd.read_csv(tmp_path / f"neural_solvers_{name}.csv")
        assert len(table) and "pwlmodels" in table.columns
