"""The claims on the diagnostics page, measured: each experiment's figure asserted.

Analytic figures to 1e-8 (closed forms stated to 1e-3 where the claim is a
limit); statistical ones within 4 standard errors estimated from the same
seeded replicates, so the tests are deterministic. Settings are those of the
page except where a test says it runs a subset of the grid.
"""

from __future__ import annotations

import inspect
import math
import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from docs.claims import claims as cl
from docs.claims import dying as cd

ROOT = Path(__file__).resolve().parents[1]


def _se(v) -> float:
    v = np.asarray(v, float)
    return float(v.std(ddof=1) / math.sqrt(v.size))


def test_mean_activations_match_closed_forms():
    df = cl.expected_activations().set_index("quantity")
    assert (df["abs_error"] <= 1e-8).all()
    assert df.loc["ratio relu/gelu", "quadrature"] == pytest.approx(math.sqrt(2), abs=1e-8)
    for q in ("E[relu(Z)]", "E[gelu(Z)]"):
        row = df.loc[q]
        assert abs(row.monte_carlo - row.closed_form) <= 4 * row.se


def test_sigmoid_path_product_is_at_most_four_to_the_minus_ten():
    df = cl.sigmoid_path_bound().set_index("activation")
    assert df.loc["sigmoid", "max_sigmoid_derivative"] == 0.25
    assert df.loc["sigmoid", "bound"] == 4.0**-10 == pytest.approx(9.5367e-7, rel=1e-4)
    assert df.loc["sigmoid", "max_path_product"] <= 4.0**-10
    assert df.loc["relu", "max_path_product"] == 1.0  # a path of active units: no shrinking


@pytest.fixture(scope="module")
def gradient_ratios():
    return cl.gradient_ratio(cl.gradient_norms()).set_index(["activation", "init"])


def test_gradients_vanish_towards_the_input_except_tanh_and_relu_under_xavier(gradient_ratios):
    r = gradient_ratios
    assert (r["replicates"] == 5).all()
    shrinking = [("sigmoid", "default"), ("sigmoid", "xavier"), ("tanh", "default")]
    for key in [*shrinking, ("relu", "default")]:
        assert r.loc[key, "log10_ratio"] + 4 * r.loc[key, "se"] < 0, key
    for key in [("tanh", "xavier"), ("relu", "xavier")]:  # level: within 4 SE of ratio 1
        assert abs(r.loc[key, "log10_ratio"]) <= 4 * r.loc[key, "se"], key
    assert r.loc[("sigmoid", "xavier"), "log10_ratio"] < -4  # still 4+ orders of magnitude


def test_about_half_the_units_are_off_at_a_symmetric_initialisation():
    df = cl.half_units_off()
    for layer, g in df.groupby("layer"):
        assert abs(g["fraction_off"].mean() - 0.5) <= 4 * _se(g["fraction_off"]), layer


def test_bias_free_networks_are_homogeneous_and_biased_ones_are_not():
    df = cl.homogeneity()
    assert (df[~df["bias"]]["max_relative_deviation"] <= 1e-8).all()
    assert (df[df["bias"]]["max_relative_deviation"] >= 1e-2).all()


def test_dead_first_layer_units_never_move_under_sgd_momentum_or_adam():
    df = cd.first_layer_stays_dead()
    assert set(df["optimizer"]) == {"sgd", "sgd_momentum", "adam"}
    assert (df["max_abs_grad_dead"] == 0.0).all()
    assert (df["max_abs_change_dead"] == 0.0).all()  # bit-identical weights and biases
    assert (df["still_dead_fraction"] == 1.0).all()


def test_leaky_relu_keeps_every_gradient_nonzero():
    df = cd.leaky_gradients().set_index("activation")
    assert df.loc["relu", "zero_grads"] == 16 and df.loc["relu", "max_abs_grad"] == 0.0
    assert df.loc["leaky_relu", "zero_grads"] == 0 and df.loc["leaky_relu", "min_abs_grad"] > 0


def test_deeper_units_revive_but_first_layer_units_do_not():
    df = cd.deeper_units_revive()
    assert (df[df["layer"] == 1]["revived_ever"] == 0).all()
    second = df[df["layer"] == 2]["revived_ever"]
    assert second.mean() - 4 * _se(second) > 0


def test_momentum_moves_a_dead_unit_further_in_by_the_closed_form():
    df = cd.momentum_after_death().set_index("optimizer")
    assert df.loc["sgd", "moved_after_death"] == 0.0
    mom = df.loc["sgd_momentum"]
    assert mom.moved_after_death < 0
    assert abs(mom.moved_after_death - mom.closed_form) <= 1e-8 * abs(mom.closed_form)
    assert df.loc["adam", "moved_after_death"] < 0
    assert not df["revived"].any()


def test_decay_on_biases_revives_at_the_closed_form_step_and_decay_on_weights_never():
    df = cd.decay_revival()
    closed = df.dropna(subset=["closed_form_first_revival"])
    assert len(closed) == 2  # SGD and AdamW, decay on the biases only
    assert (closed["first_revival_step"] - closed["closed_form_first_revival"]).abs().max() <= 1
    assert (df[df["decay_on"] == "biases"]["revived_fraction"] > 0).all()
    assert (df[df["decay_on"].isin(["none", "weights"])]["revived_fraction"] == 0).all()
    both = df[(df["decay_on"] == "all") & df["optimizer"].isin(["sgd", "adamw"])]
    assert (both["revived_fraction"] == 0).all()  # w and b shrink alike: z keeps its sign


def test_warming_and_bias_decay_revive_units_over_training_and_plain_relu_does_not():
    # a subset of the page's run: 600 of its 1500 steps, three of its five methods
    methods = ("ReLU, Adam", "ReLU + bias warming, Adam", "ReLU, AdamW decay 1 (biases only)")
    df = cd.revival_over_training(epochs=600, methods=methods)
    dead0 = cd.N_DEAD / cd.WIDTH
    relu = df[df["method"] == methods[0]]
    assert (relu["dead_fraction"] >= dead0).all()  # the dead-initialised units stay dead
    last = df[df["epoch"] == 600]
    for method in methods[1:]:
        final = last[last["method"] == method]["dead_fraction"]
        assert final.mean() + 4 * _se(final) < dead0, method


def test_large_learning_rates_leave_more_dead_units():
    # two of the page's learning rates, default initialisation, the page's seeds
    df = cd.dead_vs_lr(lrs=(1e-3, 1e-1), inits=("default",))
    small = df[df["lr"] == 1e-3].set_index("seed")["dead_fraction"]
    large = df[df["lr"] == 1e-1].set_index("seed")["dead_fraction"]
    diff = large - small
    assert diff.mean() - 4 * _se(diff) > 0


def test_backward_uses_the_forward_mask_and_a_frozen_mask_is_local_affine():
    v = cl.shared_mask().set_index("check")["value"]
    assert v.iloc[0] == 0  # no unit whose gradient disagrees with z <= 0
    assert v.iloc[1] == 128  # ties z == 0 were checked
    assert v.iloc[2] <= 1e-12
    assert v.iloc[3] > 1e-3  # far points leave the region: the frozen mask matters


def test_inplace_relu_gives_identical_values_and_gradients_where_legal():
    df = cl.inplace_relu().set_index("case")
    assert df.loc["Linear -> ReLU", "legal"]
    assert df.loc["Linear -> ReLU", "max_value_diff"] == 0.0
    assert df.loc["Linear -> ReLU", "max_grad_diff"] == 0.0
    for case in ("Sigmoid -> ReLU", "leaf input -> ReLU"):
        assert not df.loc[case, "legal"] and "in-place" in df.loc[case, "error"].replace(
            "inplace", "in-place"
        )


def test_first_step_after_a_long_dead_spell_matches_the_closed_forms():
    df = cd.dead_spell_first_step()
    assert (df["max_abs_grad_during_spell"] == 0.0).all()
    assert ((df["first_step_over_lr"] - df["exact"]).abs() <= 1e-10 * df["exact"]).all()
    last = df[df["spell"] == 20_000].set_index("optimizer")
    assert last.loc["rmsprop", "first_step_over_lr"] == pytest.approx(10.0, rel=1e-3)
    assert last.loc["adam", "first_step_over_lr"] == pytest.approx(0.1 / math.sqrt(1e-3), rel=1e-3)
    sgd = df[df["optimizer"] == "sgd"]
    assert np.allclose(sgd["first_step_over_lr"], sgd["grad_b"].abs(), rtol=1e-10, atol=0)
    adam = df[df["optimizer"] == "adam"]["first_step_over_lr"].to_numpy()
    assert (np.diff(adam) >= 0).all() and adam[0] < 1  # a short spell: a small first step


#: every experiment, with its cheapest settings
CHEAPEST = {
    cl.expected_activations: {"n": 16},
    cl.sigmoid_path_bound: {"depth": 2, "width": 4, "n": 8},
    cl.gradient_norms: {"replicates": 1, "depth": 2, "width": 4, "n": 8},
    cl.half_units_off: {"replicates": 1, "depth": 1, "width": 4, "n": 8},
    cl.homogeneity: {"scales": (2.0,)},
    cl.shared_mask: {"n": 16},
    cl.inplace_relu: {"n": 8},
    cd.first_layer_stays_dead: {"steps": 1, "lrs": (1e-2,)},
    cd.leaky_gradients: {},
    cd.deeper_units_revive: {"replicates": 1, "steps": 1},
    cd.momentum_after_death: {"after": 3},
    cd.decay_revival: {"steps": 1},
    cd.revival_over_training: {"replicates": 1, "epochs": 1},
    cd.dead_vs_lr: {"replicates": 1, "lrs": (1e-2,), "inits": cd.INITS, "epochs": 1, "n": 8},
    cd.dead_spell_first_step: {"alive": 1, "checkpoints": (1,)},
}


def test_every_experiment_is_checked_for_the_global_rng():
    experiments = {
        f
        for mod in (cl, cd)
        for name, f in vars(mod).items()
        if inspect.isfunction(f) and f.__module__ == mod.__name__ and not name.startswith("_")
    }
    assert experiments - {cl.gradient_ratio} == set(CHEAPEST)  # gradient_ratio: a summary


@pytest.mark.parametrize("experiment", CHEAPEST, ids=lambda f: f.__name__)
def test_experiments_leave_the_global_rng_alone(experiment):
    state = torch.random.get_rng_state()
    experiment(**CHEAPEST[experiment])
    assert torch.equal(state, torch.random.get_rng_state())


def test_generator_quick_writes_the_page_and_its_figures(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    script = ROOT / "docs" / "gen_diagnostics.py"
    monkeypatch.setattr(sys, "argv", [str(script), "--out", str(tmp_path), "--quick"])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(script), run_name="__main__")
    assert done.value.code == 0
    page = (tmp_path / "diagnostics.md").read_text()
    assert len(re.findall(r"^## ", page, flags=re.M)) == 14  # 13 claims and the references
    images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", page)
    assert len(images) == 4
    for rel in images:
        assert (tmp_path / rel).read_bytes()[:4] == b"\x89PNG"
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(["diagnostics.md", *images])  # atomic: no temporary left
