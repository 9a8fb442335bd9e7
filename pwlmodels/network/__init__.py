"""A torch ``nn.Sequential`` read once as affine maps and piecewise-linear activations.

The layer every network-side module stands on (conversion, regions,
verification, files): :func:`parse_sequential` checks what it reads and
returns the ops; :mod:`._extract` reads a one-input network as a spline.
"""
