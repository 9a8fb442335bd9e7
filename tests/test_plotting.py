"""save_figure writes atomically, with the usual file mode (not mkstemp's private 0600)."""

from __future__ import annotations

import os

import pytest


def test_save_figure_leaves_a_readable_png_and_no_temporary(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pwlmodels.plotting import save_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    path = save_figure(fig, tmp_path / "f.png")
    plt.close(fig)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["f.png"]
