"""The outline of a digit (its 0.5 iso-line) as line segments, by vectorised marching squares.

pyqtgraph's IsocurveItem walks the cells in Python (on every stroke
segment); this does the same in a few numpy operations.
"""

from __future__ import annotations

import numpy as np


def outline_segments(image: np.ndarray, level: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """x and y of segment end points, pairwise (x[0], y[0])-(x[1], y[1]), ... in pixel-centre coordinates.

    A pixel (row i, column j) has its centre at (x, y) = (j + 0.5, i + 0.5), as an ImageItem shows it.
    """
    d = np.asarray(image, dtype=np.float64)
    a, b, c, e = d[:-1, :-1], d[:-1, 1:], d[1:, 1:], d[1:, :-1]  # corners: top-left, top-right, bottom-right, bottom-left
    rows, cols = np.mgrid[0 : d.shape[0] - 1, 0 : d.shape[1] - 1].astype(np.float64)

    def cross(v1, v2):
        hit = (v1 >= level) != (v2 >= level)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(hit, (level - v1) / (v2 - v1), 0.0)
        return hit, t

    hits, xs, ys = [], [], []
    for (v1, v2), (x0, y0, dx, dy) in (
        ((a, b), (cols, rows, 1, 0)),  # top edge, left to right
        ((b, c), (cols + 1, rows, 0, 1)),  # right edge, top to bottom
        ((e, c), (cols, rows + 1, 1, 0)),  # bottom edge, left to right
        ((a, e), (cols, rows, 0, 1)),  # left edge, top to bottom
    ):
        hit, t = cross(v1, v2)
        hits.append(hit)
        xs.append(x0 + dx * t)
        ys.append(y0 + dy * t)
    hit, x, y = np.stack(hits), np.stack(xs), np.stack(ys)  # (4, H-1, W-1)
    count = hit.sum(0)
    # two crossings: one segment between them
    two = count == 2
    order = np.argsort(~hit[:, two], axis=0, kind="stable")[:2]  # the two crossed edges, in edge order
    cells = np.flatnonzero(two.ravel())
    px = x.reshape(4, -1)[order, cells]
    py = y.reshape(4, -1)[order, cells]
    seg_x, seg_y = [px.T.ravel()], [py.T.ravel()]
    # four crossings (a saddle): pair top with left and right with bottom
    four = np.flatnonzero((count == 4).ravel())
    if four.size:
        for first, second in ((0, 3), (1, 2)):
            seg_x.append(np.stack([x[first].ravel()[four], x[second].ravel()[four]], 1).ravel())
            seg_y.append(np.stack([y[first].ravel()[four], y[second].ravel()[four]], 1).ravel())
    return np.concatenate(seg_x) + 0.5, np.concatenate(seg_y) + 0.5
