"""The economics page's fair-budget part, read from the committed benchmark CSVs."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from applications.economics._accuracy import RUNAWAY, accuracy_table, ge_table, runaways
from applications.economics._accuracy_page import (
    RESULTS,
    accuracy_figure,
    accuracy_text,
    ge_summary,
    load_accuracy,
    members_table,
    summarize_accuracy,
    tuning_table,
)


@pytest.fixture(scope="module")
def data():
    out = load_accuracy()
    if out is None:
        pytest.skip(f"no neural_solvers_*.csv under {RESULTS}")
    return out


def test_missing_results_say_how_to_make_them(tmp_path):
    assert load_accuracy(tmp_path) is None
    text = accuracy_text(None)
    assert "python benchmarks/bench_neural_solvers.py" in text and "|" not in text


def test_members_table_is_the_adam_stage_with_the_polish_change(data):
    members, egm = data["members"], data["egm"]
    table = members_table(members, egm)
    summary = accuracy_table(members)
    cells = summary.groupby(["activation", "width"]).ngroups
    assert len(table) == cells + 1 and table["activation"].iloc[-1] == "EGM"
    row = table.iloc[0]
    one = members[(members.activation == row.activation) & (members.width == int(row.width))]
    adam = one[one.stage == "adam"]["log10_mean_near"]
    assert row["mean near the kink"] == f"{adam.mean():.2f} ± {adam.std():.2f}"
    change = (
        one[one.stage == "adam+lbfgs"]["log10_mean_all"].mean()
        - one[one.stage == "adam"]["log10_mean_all"].mean()
    )
    assert row["L-BFGS change of mean all (< 0: better)"] == f"{change:+.2f}"
    assert table["mean all"].iloc[-1] == f"{egm['log10_mean_all'].iloc[0]:.2f}"


def test_tuning_table_reports_the_choice_the_members_used(data):
    table = tuning_table(data["tuning"], data["members"])
    tuning = data["tuning"]
    for row in table.itertuples():
        runs = tuning[tuning.activation == row.activation]
        best = runs.loc[runs.score.idxmin()]
        assert row._5 == f"{best['lr']:g}" and row._6 == best["transform"]  # chosen lr, input


def test_ge_summary_gives_r_star_only_where_supply_rises_and_stays_bounded(data):
    full = ge_table(data["ge"], float(data["egm"]["r_brent"].iloc[0]))
    summary = ge_summary(full)
    for _, row in summary.iterrows():
        g = full[full.model == ("egm" if row["model"] == "EGM" else row["model"])]
        assert row["supply rises with r"] == f"{int(g.increasing.sum())} of {len(g)}"
        assert row["crosses demand once"] == f"{int((g.crossings == 1).sum())} of {len(g)}"
        assert row["runs away at some rate"] == f"{int(g.runaway.sum())} of {len(g)}"
        found = g.r_star.notna()
        assert not (found & (~g.increasing | g.runaway)).any()
        cells = row["r* (%), per seed"].split(", ")
        assert len(cells) == len(g) and [c != "-" for c in cells] == found.tolist()
        assert len(row["supply error at EGM's r* (%)"].split(", ")) == len(g)


def test_runaways_are_measured_against_egm_at_the_same_rate(data):
    ge = data["ge"]
    flagged = runaways(ge)
    egm = ge[ge.model == "egm"].set_index("offset_bp")["supply"]
    want = ge["supply"].to_numpy() > RUNAWAY * ge["offset_bp"].map(egm).to_numpy()
    np.testing.assert_array_equal(flagged, want)
    assert not flagged[(ge.model == "egm").to_numpy()].any()


def test_distribution_table_is_egm_then_each_activation(data):
    from applications.economics._accuracy_page import distribution_table

    dist, ge = data["distribution"], data["ge"]
    table = distribution_table(dist, ge)
    assert table["model"].iloc[0] == "EGM" and len(table) == dist["model"].nunique()
    assert table["Gini"].iloc[0] == f"{dist['gini'].iloc[0]:.3f}"
    at = ge.assign(runaway=runaways(ge))
    at = at[at.offset_bp == 0.0]
    for k in range(1, len(table)):
        model = dist["model"].unique()[k]
        ok = at[(at.model == model) & ~at.runaway].seed
        g = dist[(dist.model == model) & dist.seed.isin(ok)]["hand_to_mouth"]
        assert table["networks"].iloc[k] == f"{len(g)} of {(dist.model == model).sum()}"
        want = {0: "-", 1: f"{g.sum():.3f}"}.get(len(g), f"{g.mean():.3f} ± {g.std():.3f}")
        assert table["hand-to-mouth"].iloc[k] == want


def test_distribution_table_leaves_out_a_runaway(data):
    from applications.economics._accuracy_page import distribution_table

    ge = data["ge"].copy()
    first = ge[(ge.model != "egm") & (ge.offset_bp == 0.0)].index[0]
    egm_supply = ge[(ge.model == "egm") & (ge.offset_bp == 0.0)].supply.iloc[0]
    ge.loc[first, "supply"] = 10 * egm_supply
    table = distribution_table(data["distribution"], ge)
    before = distribution_table(data["distribution"], data["ge"])
    k = 1 + list(data["distribution"]["model"].unique()[1:]).index(ge.loc[first, "model"])
    kept_before = int(before["networks"].iloc[k].split()[0])
    assert table["networks"].iloc[k].split()[0] == str(kept_before - 1)


def test_text_and_figure(data, tmp_path):
    summary = summarize_accuracy(data)
    text = accuracy_text(summary, "neural_solvers.png")
    assert "![Neural solvers" in text and not re.search(r"\bnan\b", text, flags=re.I)
    assert summarize_accuracy(None) is None
    path = accuracy_figure(summary, tmp_path / "f.png", dpi=40)
    assert path.stat().st_size > 1000


def test_members_table_aligns_stages_whatever_their_order(data):
    members = data["members"]
    shuffled = members.iloc[np.random.default_rng(0).permutation(len(members))]
    a = members_table(members, data["egm"]).sort_values(["activation", "width"])
    b = members_table(shuffled, data["egm"]).sort_values(["activation", "width"])
    drop = ["mean near the kink", "mean away", "mean all"]  # sd: float sums in another order
    pd.testing.assert_frame_equal(
        a.drop(columns=drop).reset_index(drop=True), b.drop(columns=drop).reset_index(drop=True)
    )
