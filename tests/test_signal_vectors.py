"""The fast per-sample helpers give numpy's own answers, to the last bit."""

import numpy as np
import pytest
from scipy import signal as sps

from movecoach.signal.filters import lowpass_sos, sosfilt_time0
from movecoach.signal.vectors import column_max, column_min, row_norm


def test_row_norm_and_column_extremes_are_numpys_to_the_last_bit():
    rng = np.random.default_rng(7)
    block = rng.normal(size=(5000, 6)) * rng.uniform(1e-6, 1e3, size=(5000, 6))  # acc | gyr
    acc = block[:, :3]  # a view, as the readers pass them
    assert np.array_equal(row_norm(acc), np.linalg.norm(acc, axis=1))
    assert np.array_equal(column_min(block), block.min(axis=0))
    assert np.array_equal(column_max(acc), acc.max(axis=0))
    assert row_norm(np.zeros((0, 3))).shape == (0,)


@pytest.mark.parametrize("shape", [(300,), (300, 2), (12, 6), (1, 3)])
def test_sosfilt_time0_is_sosfilt_to_the_last_bit(shape):
    rng = np.random.default_rng(1)
    sos = np.array(lowpass_sos(2.0, 50.0, 4))
    x = rng.normal(size=shape)
    zi = sps.sosfilt_zi(sos)
    zi = zi * x[0] if x.ndim == 1 else zi[:, :, None] * x[0]
    for signal in (x, x[::-1]):  # forward, and a reversed view (the backward pass of lowpass)
        y, z = sosfilt_time0(sos, signal, zi)
        y_ref, z_ref = sps.sosfilt(sos, signal, axis=0, zi=zi)
        assert y.shape == y_ref.shape and z.shape == z_ref.shape
        assert np.array_equal(y, y_ref) and np.array_equal(z, z_ref)
