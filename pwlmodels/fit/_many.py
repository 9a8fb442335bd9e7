"""One :func:`fit_pwl` per group of a DataFrame, serially or on a Dask cluster."""

from __future__ import annotations

import sys
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._dask import client_for, map_batches
from .._validate import as_knots, check_choice, plain
from ._fit import _MAX_STARTS, _knot_arguments, _nonneg_int, fit_pwl

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["fit_many"]

#: The result's columns, in order (the index holds the group keys).
COLUMNS = (
    "knots",
    "values",
    "x_min",
    "x_max",
    "ssr",
    "n",
    "aic",
    "bic",
    "value_se",
    "slope_se",
    "knot_se",
    "spline",
    "notes",
)
_FLOAT_COLUMNS = ("x_min", "x_max", "ssr", "aic", "bic")
_ERRORS = ("raise", "coerce")


def fit_many(
    frame: object,
    *,
    x: str,
    y: str,
    by: str | Sequence[str],
    n_knots: int | None = None,
    knots: object = None,
    weights: str | None = None,
    constraints: dict | None = None,
    extrapolate: str = "linear",
    n_starts: int = 4,
    seed: int = 0,
    client: object = None,
    progress: bool = False,
    errors: str = "raise",
) -> pd.DataFrame:
    """Fit one piecewise-linear function per group of a DataFrame, serially or with Dask.

    Each group's points go through :func:`fit_pwl` with the same options.
    Before fitting, a group's rows are put in the order of ``x`` (ties by
    ``y``, then by weight), so the result does not depend on row order: a
    serial run, a cluster and a shuffled dask DataFrame give the same bits.
    Without ties in ``x`` it is exactly ``fit_pwl`` on the group's points.

    Parameters
    ----------
    frame : pandas.DataFrame or dask.dataframe.DataFrame
        The data, one point a row. A dask DataFrame is shuffled by group,
        then each partition's groups are fitted where the partition lives;
        no group is split.
    x, y : str
        The columns of the points: numeric (not boolean), finite.
    by : str or sequence of str
        The column(s) that name the groups; missing keys are refused.
    n_knots : int, optional
        Free knots per group, as in :func:`fit_pwl`.
    knots : array_like of float, shape (K,), optional
        Fixed interior knots shared by every group, as in :func:`fit_pwl`
        (each must lie inside every group's range of ``x``).
        Exactly one of ``n_knots`` and ``knots`` is required.
    weights : str, optional
        A column of non-negative residual weights (``1 / sigma``).
    constraints : dict, optional
        As in :func:`fit_pwl`, the same for every group.
    extrapolate : {"linear", "constant"}, default "linear"
    n_starts : int, default 4
    seed : int, default 0
        As in :func:`fit_pwl`; every group gets the same seed.
    client : None, "local" or dask.distributed.Client, default None
        None fits in this process, one group after another; a Client runs
        batches of groups on its workers (their arrays scattered to them,
        results gathered in group order); ``"local"`` starts a
        ``LocalCluster`` of one single-threaded worker process per core and
        closes it afterwards, also on error. Needs the ``scale`` extra.
    progress : bool, default False
        Show progress: a tqdm bar in this process, Dask's ``progress`` for
        a cluster, Dask's ``ProgressBar`` for a dask DataFrame fitted here.
    errors : {"raise", "coerce"}, default "raise"
        What a group whose fit fails (too few points, a non-finite value,
        knots outside its data) does: ``"raise"`` a ValueError naming the
        group and the reason; ``"coerce"`` a row of NaN and None with the
        reason in ``notes``, as ``pandas.to_numeric(errors="coerce")``.

    Returns
    -------
    pandas.DataFrame
        One row per group, indexed by the group keys (named like ``by``,
        sorted as ``frame.groupby(by)`` sorts them), with the columns
        ``knots`` (ndarray, shape (K,)), ``values`` (ndarray, shape (K + 2,):
        the fit at ``[x_min, knots..., x_max]``), ``x_min``, ``x_max``,
        ``ssr``, ``n``, ``aic``, ``bic``, ``value_se`` (K + 2,), ``slope_se``
        (K + 1,), ``knot_se`` (K,) (None where :class:`PWLFit` has None),
        ``spline`` (the fitted :class:`PiecewiseLinear`) and ``notes``.

    See Also
    --------
    fit_pwl : one fit, and the meaning of each statistic.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from pwlmodels import fit_many
    >>> x = np.tile(np.linspace(0.0, 10.0, 101), 2)
    >>> g = np.repeat(["b", "a"], 101)
    >>> y = np.where(g == "a", np.abs(x - 3.0), np.abs(x - 7.0))
    >>> fits = fit_many(pd.DataFrame({"g": g, "x": x, "y": y}), x="x", y="y", by="g", n_knots=1)
    >>> fits.index.tolist()
    ['a', 'b']
    >>> np.round(np.concatenate(fits["knots"].to_numpy()), 6)
    array([3., 7.])
    >>> np.round(fits.loc["a", "spline"](np.array([0.0, 5.0])), 6)
    array([3., 2.])
    """
    n_knots_checked = _knot_arguments((), n_knots, knots)
    if n_knots_checked is None:
        knots = as_knots(knots, "knots", min_size=0)
    check_choice(extrapolate, "extrapolate", ("linear", "constant"))
    check_choice(errors, "errors", _ERRORS)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"`progress` must be True or False; got {type(progress).__name__}")
    _nonneg_int(seed, "seed")
    _nonneg_int(n_starts, "n_starts", limit=_MAX_STARTS)
    if constraints is not None and not isinstance(constraints, dict):
        raise TypeError(f"`constraints` must be a dict; got {type(constraints).__name__}")
    options = {
        "n_knots": n_knots_checked,
        "knots": knots,
        "constraints": constraints,
        "extrapolate": extrapolate,
        "n_starts": n_starts,
        "seed": seed,
    }
    is_dask = _is_dask_frame(frame)
    keys = _check_columns(frame, x, y, by, weights, is_dask)
    columns = {"x": x, "y": y, "w": weights}
    with client_for(client) as run_on:
        return _dispatch(frame, keys, columns, options, run_on, progress, errors, is_dask)


# ------------------------------------------------------------------ checks
def _is_dask_frame(frame: object) -> bool:
    dd = sys.modules.get("dask.dataframe")  # a dask DataFrame exists only once it is imported
    return dd is not None and isinstance(frame, dd.DataFrame)


def _check_columns(
    frame: object, x: object, y: object, by: object, weights: object, is_dask: bool
) -> list[str]:
    """The group columns as a list, after checking every named column exists and is usable."""
    import pandas as pd

    if not (is_dask or isinstance(frame, pd.DataFrame)):
        raise TypeError(f"`frame` must be a pandas or dask DataFrame; got {type(frame).__name__}")
    keys = [by] if isinstance(by, str) else by
    if not isinstance(keys, (list, tuple)) or not keys or not all(isinstance(k, str) for k in keys):
        raise TypeError(f"`by` must be a column name or a non-empty list of them; got {by!r}")
    keys = list(keys)
    if len(set(keys)) < len(keys):
        raise ValueError(f"`by` must name each column once; got {keys}")
    named = {"x": x, "y": y, **({"weights": weights} if weights is not None else {})}
    for arg, col in named.items():
        if not isinstance(col, str):
            raise TypeError(f"`{arg}` must be a column name (str); got {type(col).__name__}")
    present = set(frame.columns)
    for arg, col in [*named.items(), *(("by", k) for k in keys)]:
        if col not in present:
            raise ValueError(
                f"`{arg}` names the column {col!r}, which `frame` lacks; its columns are "
                f"{list(frame.columns)}"
            )
    clash = {x, y, weights} & set(keys)
    if clash:
        raise ValueError(f"`by` must not name the x, y or weights column; got {sorted(clash)}")
    for arg, col in named.items():
        dtype = frame[col].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise TypeError(
                f"`{arg}` names the column {col!r} of dtype {dtype}; it must be numeric "
                "(integer or float, not boolean)"
            )
    if not is_dask:
        if len(frame) == 0:
            raise ValueError("`frame` must have at least one row; got an empty DataFrame")
        _check_keys(frame, keys)  # a dask frame: each partition, where it is fitted
    return keys


def _check_keys(frame, keys: list[str]) -> None:
    """Refuse missing group keys (groupby would drop their rows without a word)."""
    missing = frame[keys].isna().any(axis=1).to_numpy()
    if missing.any():
        label = plain(frame.index[int(np.argmax(missing))])
        raise ValueError(
            f"`by` columns {keys} must have no missing keys; got one at row {label!r}; "
            "drop or fill those rows first"
        )


# ------------------------------------------------------------------ the work
def _dispatch(frame, keys, columns, options, client, progress, errors, is_dask):
    if is_dask:
        table = _fit_dask(frame, keys, columns, options, client, progress)
        return _finish(table, keys, errors)
    groups = list(_groups(frame, keys, columns))
    if client is None:
        from tqdm.auto import tqdm

        rows = [
            _fit_group(key, data, options)
            for key, data in tqdm(groups, desc="fit_many", disable=not progress)
        ]
    else:
        rows = map_batches(_fit_batch, groups, client, progress=progress, options=options)
    return _finish(_table(rows, keys), keys, errors)


def _groups(frame, keys: list[str], columns: dict):
    """(key, (x, y, w, row labels)) per group, in sorted key order; x, y, w as float64."""
    names = _value_columns(columns)
    grouped = frame[[*keys, *names]].groupby(keys if len(keys) > 1 else keys[0], sort=True)
    for key, part in grouped:
        yield _plain_key(key, len(keys)), _arrays(part, columns)


def _plain_key(key: Any, n_keys: int) -> Hashable:
    """A group key with numpy scalars as Python ones; a single column's key as it is (a
    tuple stays a tuple: the groupby above gets a column name, never a list of one)."""
    if n_keys > 1:
        return key
    return key.item() if isinstance(key, np.generic) else key


def _value_columns(columns: dict) -> list[str]:
    """The x, y and weights columns, each once (x and y may name one column)."""
    return list(dict.fromkeys(c for c in (columns["x"], columns["y"], columns["w"]) if c))


def _arrays(part, columns: dict):
    x = part[columns["x"]].to_numpy(dtype=float, na_value=np.nan)
    y = part[columns["y"]].to_numpy(dtype=float, na_value=np.nan)
    w = None
    if columns["w"] is not None:
        w = part[columns["w"]].to_numpy(dtype=float, na_value=np.nan)
    return x, y, w, part.index.to_numpy()


def _fit_group(key: Hashable, data, options: dict) -> tuple[Hashable, dict]:
    """(key, row) for one group; a failed fit gives a row with the reason under "error"."""
    x, y, w, labels = data
    for name, arr in (("x", x), ("y", y), ("weights", w)):
        if arr is not None and not np.isfinite(arr).all():
            i = int(np.argmax(~np.isfinite(arr)))
            return key, {
                "error": f"`{name}` must be finite; got {plain(arr[i])!r} at row "
                f"{plain(labels[i])!r}; "
                "drop or fill such rows first"
            }
    order = np.lexsort((w, y, x) if w is not None else (y, x))
    x, y = x[order], y[order]
    w = None if w is None else w[order]
    try:
        fit = fit_pwl(x, y, weights=w, **options)
    except ValueError as exc:
        return key, {"error": str(exc)}
    nodes = fit._nodes()
    return key, {
        "knots": fit.knots,
        "values": fit.spline(nodes),
        "x_min": fit.x_range[0],
        "x_max": fit.x_range[1],
        "ssr": fit.ssr,
        "n": fit.n,
        "aic": fit.aic,
        "bic": fit.bic,
        "value_se": fit.value_se,
        "slope_se": fit.slope_se,
        "knot_se": fit.knot_se,
        "spline": fit.spline,
        "notes": fit.notes,
    }


def _fit_batch(batch: list, options: dict) -> list:
    return [_fit_group(key, data, options) for key, data in batch]


def _fit_partition(part, keys: list[str], columns: dict, options: dict):
    """A partition's groups (whole, after the shuffle) fitted: a frame of key columns and rows."""
    _check_keys(part, keys)
    rows = [_fit_group(key, data, options) for key, data in _groups(part, keys, columns)]
    return _table(rows, keys).reset_index()


def _fit_dask(frame, keys, columns, options, client, progress: bool):
    import dask

    names = _value_columns(columns)
    with dask.config.set({"dataframe.convert-string": False}):
        data = frame[[*keys, *names]]
        meta = _table([], keys, dtypes=data.dtypes[keys]).reset_index()
        # in this process: a task shuffle (p2p, Dask's default under a Client, needs workers)
        method = "tasks" if client is None else None
        shuffled = data.shuffle(on=keys if len(keys) > 1 else keys[0], shuffle_method=method)
        fitted = shuffled.map_partitions(_fit_partition, keys, columns, options, meta=meta)
        if client is None:
            from dask.diagnostics import ProgressBar

            if progress:
                with ProgressBar():
                    table = fitted.compute(scheduler="sync")
            else:
                table = fitted.compute(scheduler="sync")
        else:
            future = client.compute(fitted)
            if progress:
                from distributed import progress as dask_progress

                dask_progress(future)
            table = future.result()
    if len(table) == 0:  # as for pandas (known only now: a dask frame's length is a pass)
        raise ValueError("`frame` must have at least one row; got an empty DataFrame")
    return _in_group_order(table, keys, data.dtypes)


def _in_group_order(table, keys: list[str], dtypes):
    """The fitted rows indexed by key and sorted as pandas' groupby sorts the keys: a
    categorical key (with known categories) in the order of its categories."""
    import pandas as pd
    from dask.dataframe.utils import UNKNOWN_CATEGORIES

    ordered = [
        k
        for k in keys
        if isinstance(dtypes[k], pd.CategoricalDtype)
        and UNKNOWN_CATEGORIES not in dtypes[k].categories
    ]
    for k in ordered:
        table[k] = pd.Categorical(table[k], dtype=dtypes[k])
    table = table.set_index(keys if len(keys) > 1 else keys[0]).sort_index(kind="stable")
    if ordered:  # the keys as labels again, as the pandas path gives them
        labels = table.index.tolist()
        table.index = (
            pd.MultiIndex.from_tuples(labels, names=keys)
            if len(keys) > 1
            else pd.Index(labels, name=keys[0], tupleize_cols=False)
        )
    return table


def _table(rows: list, keys: list[str], dtypes=None):
    """The result frame of (key, row) pairs: the columns in order, the index named like by."""
    import pandas as pd

    labels = [key for key, _ in rows]
    if labels:
        index = (
            pd.MultiIndex.from_tuples(labels, names=keys)
            if len(keys) > 1
            else pd.Index(labels, name=keys[0], tupleize_cols=False)  # tuple keys stay keys
        )
    else:  # an empty partition, or a dask meta: the key columns' dtypes
        arrays = [pd.Series([], dtype=object if dtypes is None else dtypes[k]) for k in keys]
        index = (
            pd.MultiIndex.from_arrays(arrays, names=keys)
            if len(keys) > 1
            else pd.Index(arrays[0], name=keys[0])
        )
    return pd.DataFrame(
        {
            col: pd.Series(
                [row.get(col) for _, row in rows],
                index=index,
                dtype=float if col in _FLOAT_COLUMNS else object,
            )
            for col in (*COLUMNS, "error")
        },
        index=index,
    )


def _finish(table, keys: list[str], errors: str):
    """Raise for the first failed group, or coerce its row; drop the error column."""
    failed = table["error"].notna().to_numpy()
    if failed.any():
        i = int(np.argmax(failed))
        by = keys if len(keys) > 1 else keys[0]
        if errors == "raise":
            raise ValueError(
                f"the fit of group {plain(table.index[i])!r} (`by` = {by!r}) failed: "
                f"{table['error'].iloc[i]}; errors='coerce' keeps such groups as rows of NaN "
                "and None"
            )
        notes = table["notes"].copy()
        notes[failed] = [(f"fit failed: {e}",) for e in table["error"][failed]]
        table["notes"] = notes
    table = table.drop(columns="error")
    table["n"] = table["n"].astype("Int64") if failed.any() else table["n"].astype(np.int64)
    return table
