"""The traffic study's Markdown section and key numbers, written from a ``TrafficResult``.

Only formatting here: every table and number was computed by ``compute``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..report import markdown_table
from ._calib_report import calibration_text
from ._field import LABELS
from ._freeway_section import freeway_section
from ._labels import DATASETS, STYLE

if TYPE_CHECKING:
    from ._study import TrafficResult

__all__: list[str] = []

_INFO = (  # the facts that AppResult.info carries, besides the run's own
    "recovered",
    "robust_worst_rel_error",
    "relu_vs_tanh",
    "queues",
    "greenshields_max_rel_deviation",
    "triangle_relu_max_deviation",
    "field",
)


def _pct(x: float) -> str:
    return f"{100 * x:+.2f} %"


def info(result: TrafficResult, seconds: float) -> dict:
    """Key numbers by name, for callers and the closing note (``seconds``: the whole run)."""
    facts = result.facts
    return {k: facts[k] for k in _INFO} | {
        "learning_rates": result.learning_rates,
        "stage_seconds": dict(result.stage_seconds) | {"total": seconds},
        "uxsim_note": result.uxsim_note,
        "torch_threads": result.torch_threads,
    }


def _intro(result: TrafficResult, quick: bool) -> str:
    truth, g, facts = result.truth, result.greenshields, result.facts
    ex, worst = facts["exact"], facts["greenshields_max_rel_deviation"]
    mode = " (quick mode: a smoke test of the code, not the study)" if quick else ""
    return f"""## Traffic: fundamental diagrams as exact ReLU networks, fitted from data, and what \
each fit does to a queue

In the LWR model (Lighthill and Whitham 1955, Richards 1956) traffic density is conserved and \
the flow is a function of it, the fundamental diagram q(rho). Every number below comes from \
this run{mode}; seeds {list(result.seeds)}; densities, flows and speeds are per lane.

### Diagrams as networks

The triangular diagram (Newell 1993, Daganzo 1994) with vf = {truth["vf"]:g} km/h, \
w = {truth["w"]:g} km/h and rho_jam = {truth["rho_jam"]:g} veh/km (capacity \
{truth["capacity"]:g} veh/h at {truth["critical_density"]:g} veh/km) is piecewise linear, so \
`TriangularFD.to_relu()` is a ReLU network with {ex["hidden_units"]:.0f} hidden units; it \
equals the diagram to {ex["max_deviation"]:.2g} veh/h on [-60, 240] veh/km, on and off [0, \
rho_jam] (float64 rounding bound {ex["rounding_bound"]:.2g} veh/h). Greenshields' (1935) parabola \
(vmax {g["vmax"]:g} km/h, rho_max {g["rho_max"]:g} veh/km) is not piecewise linear; its \
interpolant on K uniform knots (one ReLU unit per knot) misses it by exactly q_max/(K-1)^2, at the \
interval midpoints. Measured in float64 for every K from 3 to 129, the sup error matches the \
formula to {worst:.2g} relative: the rounding of the knot values (a few ulps of q_max) is all \
that separates them.

![Greenshields interpolation error against K](greenshields.png)

{markdown_table(result.tables["greenshields"])}"""


def _data(result: TrafficResult) -> str:
    cfg = result.config
    text = f"""### Data

Synthetic detector data, {cfg.n_points} points per seed: density uniform on each branch with \
30 % of the points congested (and a 10 % variant: real detector data are as imbalanced, Qu, \
Wang and Zhang 2015), 5 % multiplicative flow noise, and 5 % transition cells, random mixes of \
two states: what Edie's (1963) definitions report for a cell that a shock crosses, a point on \
a chord below the diagram. A noise-free draw checks the recovery to rounding."""
    if "uxsim" in result.views:
        text += """ UXsim (Seo; \
Newell's simplified car-following model, a triangular diagram on every link, \
w = 1/(reaction time x jam density)) simulates one lane with a bottleneck: `capacity_out` \
1500 veh/h at the end of the middle link, 800 veh/h during an incident from 20 to 35 min, \
then lifted, under a demand peak of 1900 veh/h; the queue spills back onto the first link and \
the discharge after the incident passes through the capacity state. Edie's cells (60 s long) \
come from its analyzer, converted from veh/s and veh/m."""
    if result.uxsim_note:
        text += f"\n\n**{result.uxsim_note}**"
    return f"""{text}

{markdown_table(result.tables["data"])}
![Data and fitted diagrams, the kink enlarged](fd.png)

![The 10 % congested and the UXsim data sets](fd_datasets.png)
"""


def _recovery(result: TrafficResult) -> str:
    facts, cfg, seeds = result.facts, result.config, list(result.seeds)
    worst = facts["robust_worst_rel_error"]
    met = worst["vf"] <= 0.02 and worst["capacity"] <= 0.02
    met = met and worst["w"] <= 0.05 and worst["jam_density"] <= 0.05
    lsq, nf = facts["lsq"], facts["noise_free_max_rel_error"]
    return f"""### Recovered parameters

Every fit is measured by one set of definitions, so smooth fits get the same numbers: \
critical density = argmax of q, capacity = its max, vf = the least-squares slope through the \
origin on [0, 0.5 rho_c], w = minus the least-squares slope on [1.5 rho_c, 0.9 rho_jam] (the \
true rho_c and rho_jam), jam density = the first zero beyond rho_c ('none' when there is none \
up to 1.25 max(observed density, rho_jam)). The fits: the triangle by robust least squares \
(Tukey's bisquare on flow-scaled residuals, the field's baseline) and by plain least squares; \
`fit_pwl` with one and with three free knots, each refitted concave and through the origin on \
the same knots; ReLU and tanh networks (one hidden layer of {cfg.hidden[0]} units, \
{cfg.epochs} full-batch Adam epochs, the learning rate chosen on held-out data) through \
`compare_activations`. Errors in %, means over seeds.

{markdown_table(result.tables["recovery"])}
Noise-free data give the triangle to {nf:.1g} relative (target 1e-8). \
On noisy data the robust fit's worst error over seeds {seeds} is {100 * worst["vf"]:.2f} % on \
vf and {100 * worst["capacity"]:.2f} % on capacity (target 2 %), {100 * worst["w"]:.2f} % on w \
and {100 * worst["jam_density"]:.2f} % on rho_jam (target 5 %): {"met" if met else "MISSED"}. \
Plain least squares, like every unweighted fit here, is pulled low by the shock-crossing \
cells: capacity {_pct(lsq["capacity"])} and w {_pct(lsq["w"])} with 30 % congested data, \
capacity {_pct(lsq["capacity_10"])} with 10 %.{_reach(facts["reach"])}
"""


def _reach(reach: dict[str, float]) -> str:
    """A sentence on data sets that stop short of 0.9 rho_jam (their w and rho_jam extrapolate)."""
    short = []
    for name, r in reach.items():
        if r < 0.9:
            short.append(f"{DATASETS[name]} reach only {r:.2f} rho_jam")
    if not short:
        return ""
    return (
        f" The densities of {'; '.join(short)}: there w and rho_jam are extrapolated by every "
        "fit (flagged in table.csv), and a fit that bends beyond the data has no jam density."
    )


def _networks(result: TrafficResult) -> str:
    facts, truth = result.facts, result.truth
    nets = facts["relu_vs_tanh"].get("synthetic_30", {})
    if "relu" not in nets or "tanh" not in nets:
        return ""
    relu, tanh = nets["relu"], nets["tanh"]
    text = f"""### ReLU against tanh at the kink

With the same data, width, epochs and learning-rate search, the ReLU network puts its peak at \
{relu["critical_density"]:.3g} veh/km (truth {truth["critical_density"]:g}) with a capacity error \
of {_pct(relu["capacity_rel_error"])}; the tanh network rounds the peak and moves it to \
{tanh["critical_density"]:.3g} veh/km, with a capacity error of \
{_pct(tanh["capacity_rel_error"])}: {_closer(relu, tanh, truth["critical_density"])}. Within \
2 % of rho_jam of the kink the largest error is \
{relu["kink_max_error"]:.3g} veh/h for ReLU and {tanh["kink_max_error"]:.3g} veh/h for tanh. \
The kink's location and one-sided slopes come from `kink_estimate` (lines fitted on either \
side of the window), the same for every model; breakpoints are counted on the ReLU network's \
exact spline (`relu_to_spline`). Means over seeds:

{markdown_table(result.tables["networks"])}"""
    worst = facts["baseline_worst"]
    if worst and worst["value"] > 10 * truth["capacity"]:
        text += f"""
`compare_activations`' own baseline (`fit_pwl` with as many free knots as the network has \
units) is in table.csv; on {worst["dataset"]} seed {int(worst["seed"])} its knot search put \
two knots almost together and the fit reaches {worst["value"]:.3g} veh/h between them on the \
test grid.
"""
    return text


def _closer(relu: dict, tanh: dict, rho_c: float) -> str:
    """Which network's capacity is closer, said against where each puts the peak."""
    r, t = abs(relu["capacity_rel_error"]), abs(tanh["capacity_rel_error"])
    if r == t:
        return "the two capacity errors are equal in size"
    near = abs(relu["critical_density"] - rho_c) <= abs(tanh["critical_density"] - rho_c)
    peak = "nearer the true critical density" if near else "further from the true critical density"
    if r < t:
        return f"the ReLU network's capacity is the closer one, and its peak is {peak}"
    link = "although" if near else "and"
    return (
        f"the tanh network's capacity is the closer one, {link} the ReLU network's peak is {peak}"
    )


def _tied(models: tuple[str, ...]) -> str:
    names = " / ".join(STYLE[m][0] for m in models)
    return f"{names} (tied)" if len(models) > 1 else names


def _on(names: list[str], among: list[str]) -> str:
    """'on every data set' when ``names`` are all of several, else 'on A and B'."""
    if len(among) > 1 and set(names) == set(among):
        return "on every data set"
    return "on " + " and ".join(DATASETS[n] for n in names)


def _field(result: TrafficResult) -> str:
    """The field table, the best model of each quantity and ReLU against tanh, from the facts."""
    field = result.facts["field"]
    if not field["best"]:
        return ""
    sets = {q: [n for n, b in field["best"].items() if q in b] for q in LABELS}
    best_lines = []
    for q, label in LABELS.items():
        groups: dict[tuple[str, ...], list[str]] = {}
        for n in sets[q]:
            groups.setdefault(field["best"][n][q], []).append(n)
        if groups:
            said = "; ".join(f"{_tied(m)} {_on(ns, sets[q])}" for m, ns in groups.items())
            best_lines.append(f"- {label}: {said}.")
    duel = [(n, q, m) for n, d in field["relu_vs_tanh"].items() for q, m in d.items()]
    sides = []
    for m in ("relu", "tanh"):
        won = [(n, q) for n, q, w in duel if w == m]
        said = "; ".join(
            f"{label} {_on([n for n, k in won if k == q], sets[q])}"
            for q, label in LABELS.items()
            if any(k == q for _, k in won)
        )
        sides.append(f"the {STYLE[m][0]} in {len(won)}" + (f" ({said})" if won else ""))
    ties = sum(w == "tie" for *_, w in duel)
    sides[1] += f"; {ties} tied" if ties else ""
    return f"""### The comparison where it matters in the field

What a traffic engineer reads off a fitted diagram, for the triangle by robust and by plain \
least squares, `fit_pwl` with one free knot (PWL least squares, 1 knot: the triangle's shape, \
found by least squares without constraints) and the two networks: the capacity error (%), the \
congested wave speed w and the free speed vf (fitted minus true, km/h, measured as above), and \
from the two scenarios above (30 % congested data) the delay and the longest queue minus the \
truth run's. Mean over seeds ± standard deviation (a single value where one seed was fitted: \
UXsim is one simulation, and on 10 % congested data only the first seed trains networks); the \
smallest mean |error| over seeds in bold (the queue is read to a cell's edge, so equal \
queues tie). The rows are part "field" of table.csv: differences \
of the rows above, nothing recomputed.

{markdown_table(result.tables["field"])}
Closest to the truth (smallest mean |error| over seeds):

{chr(10).join(best_lines)}

Of the two networks, the smaller mean |error| is {sides[0]} of the {len(duel)} entries where \
both ran, {sides[1]}.
"""


def _admissible(result: TrafficResult) -> str:
    facts = result.facts
    lines = []
    for model, seed, note in facts["excluded"]:
        name = STYLE.get(model, (model,))[0]
        lines.append(
            f"- {name} (seed {seed}) is not simulated: {note} (two free "
            "knots almost together: a near-jump in q)."
        )
    if facts["jam_forced"]:
        which = ", ".join(f"{STYLE.get(m, (m,))[0]} seed {s}" for m, s in facts["jam_forced"])
        lines.append(f"- The jam density was forced for: {which}.")
    return f"""### Making a fit admissible for the CTM

Godunov's scheme in demand-supply form (Lebacque 1996; Daganzo's cell transmission model) \
needs a flux that is zero at 0 and at jam density, with one peak. Each fit is made admissible: \
critical density = argmax; a positive q(0) faded out linearly to rho_c; jam density = the \
first zero beyond rho_c (forced where absent by continuing the last segment); the flux clipped \
at 0; demand D(rho) = max of q on [0, rho] and supply S(rho) = max of q on [rho, rho_jam]. The \
largest correction over seeds (30 % congested data):

{markdown_table(result.tables["admissible"])}
{chr(10).join(lines)}
"""


def _ctm(result: TrafficResult) -> str:
    facts, runs = result.facts, {r.name: r for r in result.scenarios}
    red, drop = facts["queues"]["red_light"], facts["queues"]["lane_drop"]
    hd, hr = drop["hypothesis"], red["hypothesis"]
    agree = 100 * max(hd["discharge_vs_capacity"], hr["discharge_vs_capacity"])
    worst = max((hd, hr), key=lambda h: h["tail_vs_rh"])
    model, seed = worst["tail_vs_rh_worst"]
    who = f"{STYLE.get(model, (model,))[0]} seed {seed}"
    if (model, seed) in facts["jam_forced"]:
        who += ", whose jam density was forced, so its queue fills towards it only slowly"
    tables = "\n".join(
        f"**{title}**: {runs[name].description}.\n\n{markdown_table(result.tables[name])}"
        for name, title in (("red_light", "Red light"), ("lane_drop", "Lane drop, 3 to 2 lanes"))
    )
    nets = ""
    if "tanh" in drop and "relu" in drop:
        nets = f""" The tanh network, {_pct(drop["tanh"]["capacity_rel_error"])} in capacity, \
gives {drop["tanh"]["total_delay"]:.3g} veh h of delay at the lane drop against \
{drop["truth"]["total_delay"]:.3g} for the truth and {drop["relu"]["total_delay"]:.3g} for the \
ReLU network ({_pct(drop["relu"]["capacity_rel_error"])} in capacity)."""
        if (
            hr["clearance_vs_truth"].get("tanh", 0.0)
            < 0
            < red["tanh"]["total_delay"] - red["truth"]["total_delay"]
        ):
            nets += f""" Behind the light the tanh queue 'clears' \
{-hr["clearance_vs_truth"]["tanh"]:.3g} s sooner by the density threshold, yet causes more \
delay ({red["tanh"]["total_delay"]:.3g} against {red["truth"]["total_delay"]:.3g} veh h): its \
queue is denser and shorter (its jam density is higher) while the vehicles still leave at the \
lower discharge rate; clearance by a density threshold misleads when the diagram is wrong."""
    gain = -hd["delay_per_capacity"][0]
    return f"""### Consequence: queues in the cell transmission model

The hypothesis, not a conclusion: a rounded peak underestimates capacity, so queues discharge \
more slowly. All fluxes of a scenario run in one torch batch with one dx and \
dt = 0.9 dx / (the largest |q'| over all of them), once with the disturbance and once without \
it (delay = the difference in vehicle-hours). Queue length uses the true diagram's threshold \
(rho_c + rho_jam)/2 = {runs["red_light"].threshold:g} veh/km behind the light; the lane drop's \
queue (53.3 veh/km per lane for the truth) never reaches it, so there the threshold is midway \
between the true rho_c and that queue state, {runs["lane_drop"].threshold:.3g} veh/km per lane. \
Cumulative counts N(t) (Newell 1993) are compared with the truth's at the bottleneck and 1 km \
upstream. Means over seeds.

{tables}
What it means in the field: the bottleneck discharges at the fitted capacity (discharge and \
capacity errors agree to {agree:.2g} percentage points), so a capacity error is a \
queue-discharge error, and it compounds: across every fit and seed at the lane drop, each 1 % \
of capacity lost adds {gain:.3g} % of delay (correlation {hd["delay_per_capacity"][1]:.2f}) \
and {-hd["clear_per_capacity"][0]:.3g} % of clearance time (correlation \
{hd["clear_per_capacity"][1]:.2f}); behind the light each 1 % adds \
{-hr["delay_per_capacity"][0]:.3g} % of delay (correlation {hr["delay_per_capacity"][1]:.2f}).\
{nets} Queue tails move at the Rankine-Hugoniot speed of each model's own flux (the largest \
gap, {worst["tail_vs_rh"]:.2g} km/h, is for {who}); the truth's tail behind the light moves at \
{red["truth"]["tail_speed"]:.3g} km/h against {red["truth"]["tail_speed_rh"]:.3g} in theory, \
and its discharge front at {red["truth"].get("front_speed", float("nan")):.3g} km/h against \
-w = {-result.truth["w"]:g} km/h.

![Space-time density: truth, ReLU and tanh](spacetime.png)

![Queue length and oblique cumulative counts](queues.png)
"""


_NAMES = {
    "max_queue_km": "max queue (km)",
    "clear_s": "clearance (s)",
    "delay_veh_h": "delay (veh h)",
}


def _exact_reference(result: TrafficResult) -> str:
    from ._study import RED_LIGHT

    t = result.exact_reference
    if t.empty:
        return ""
    q_a, red_s = RED_LIGHT
    truth, study = result.truth, 1000 * result.config.red_dx
    exact = t.groupby("quantity").exact.first()
    at, fine = (t[t.dx_m == h].set_index("quantity") for h in (study, t.dx_m.min()))
    orders = t.groupby("quantity").order.mean()
    shown = t.assign(quantity=t.quantity.map(_NAMES))[
        ["dx_m", "quantity", "ctm", "exact", "error", "rel_error", "order"]
    ].rename(columns={"dx_m": "dx (m)", "ctm": "CTM", "rel_error": "relative error"})
    tail = q_a / (truth["rho_jam"] - q_a / truth["vf"])
    bias = at.loc["max_queue_km"]
    meet = 3600 * exact["max_queue_km"] / tail  # s: the discharge wave meets the tail
    return f"""### Exact reference: the red light in closed form

The red light above ({q_a:g} veh/h arriving, {truth["capacity"]:g} veh/h capacity, \
{red_s:g} s of red) has an exact LWR solution (Lighthill and Whitham 1955, Richards 1956) in \
closed form for the triangle: the queue's tail is the shock between the arrival state and jam \
({tail:.3g} km/h upstream), at green a discharge wave leaves the stop line at -w, and the queue \
is longest where the two meet, {exact["max_queue_km"]:.4g} km upstream; departures catch up \
with arrivals {exact["clear_s"]:.4g} s after the start of red, and the total delay is \
{exact["delay_veh_h"]:.4g} veh h (the triangle of the input-output diagram). Newell's (1993) \
cumulative-count method, exact for a triangle by Daganzo's (2005) variational theory, gives the \
same numbers to 1e-9 (tested). The CTM, run with the truth's diagram on cells of each length \
(dt = 0.9 dx / vf, shortened so the red lasts whole steps), measures the same three: the \
queue as the furthest point, interpolated within a cell, where the density reaches \
(rho_c + rho_jam)/2 = {(truth["critical_density"] + truth["rho_jam"]) / 2:g} veh/km; clearance \
as the stop-line flow falling past (capacity + arrivals)/2; delay as extra vehicle-hours. \
Order: the observed order log(e_i-1 / e_i) / log(dx_i-1 / dx_i).

{markdown_table(shown)}
At the study's {study:g} m cells the CTM's maximum queue is {bias["ctm"]:.3g} km, \
{100 * bias["rel_error"]:.3g} % short of the exact {bias["exact"]:.4g} km: the discharge wave \
is a contact discontinuity, which a first-order scheme smears (its Courant number is \
0.9 w / vf = {0.9 * truth["w"] / truth["vf"]:.2g}), so the queue's closing wedge is cut \
short, and the error falls only as dx^{orders["max_queue_km"]:.2g} \
({100 * fine.loc["max_queue_km", "rel_error"]:.2g} % still at {t.dx_m.min():g} m). Clearance \
and delay converge at first order (observed {orders["clear_s"]:.2g} and \
{orders["delay_veh_h"]:.2g}) and are within {100 * at.loc["clear_s", "rel_error"]:.2g} % and \
{100 * at.loc["delay_veh_h", "rel_error"]:.2g} % at {study:g} m. So the delays above stand \
(there the red is rounded to whole time steps, which moves them by a few tenths of a percent), \
while the maximum queues above (read to a cell's edge, within a cell of this reading) are \
biased low by about {100 * bias["rel_error"]:.2g} %, and so is anything read from the density \
threshold near the wedge's tip, such as the clearance time above, by the threshold: exactly \
{meet - red_s:.4g} s after green, when the wedge closes.

![CTM error against the exact red light, by cell length](red_light_convergence.png)
"""


def _run(result: TrafficResult, seconds: float, device: str) -> str:
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.stage_seconds.items())
    return f"""### Run

{seconds:.1f} s on {device} (torch with one intra-op thread while the study runs; this \
machine has {result.default_threads} by default): {stages}, the rest figures. Learning \
rates chosen: {result.learning_rates}. table.csv holds every number in tidy form (part, dataset, \
model, seed, quantity, value, unit, note); the only NaN values are a jam density or kink that \
does not exist, with the reason in note.
"""


def section(result: TrafficResult, seconds: float, device: str, quick: bool) -> str:
    """The Markdown section: what was measured, the tables, the figures, what it means."""
    parts = [
        _intro(result, quick),
        _data(result),
        _recovery(result),
        calibration_text(result.calibration),
        _networks(result),
        _admissible(result),
        _ctm(result),
        _field(result),
        _exact_reference(result),
        freeway_section(result.freeway) if result.freeway is not None else "",
        _run(result, seconds, device),
    ]
    return "\n".join(p for p in parts if p)
