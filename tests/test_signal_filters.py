"""Filters and resampling: streaming in blocks gives exactly what one pass gives."""

from __future__ import annotations

import numpy as np

from movecoach.signal.filters import StreamingSOS, lowpass, lowpass_sos
from movecoach.signal.resample import UniformResampler, estimate_fs, resample_uniform


def _blocks(n: int, rng: np.random.Generator) -> list[slice]:
    out, i = [], 0
    while i < n:
        k = int(rng.choice([1, 1, 2, 7, 33, 250]))
        out.append(slice(i, min(n, i + k)))
        i += k
    return out


def test_streaming_lowpass_in_blocks_equals_one_pass():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 3)) + 9.81
    sos = lowpass_sos(2.0, 104.0, 2)
    whole = StreamingSOS(sos)(x)
    f = StreamingSOS(sos)
    parts = np.vstack([f(x[s]) for s in _blocks(len(x), rng)])
    np.testing.assert_allclose(parts, whole, rtol=0, atol=1e-12)
    # seeded on the first sample: a constant input passes without a start-up transient
    np.testing.assert_allclose(StreamingSOS(sos)(np.full(50, 9.81)), 9.81, atol=1e-9)


def test_zero_phase_lowpass_keeps_a_slow_plateau_and_removes_tremor():
    fs = 100.0
    t = np.arange(0, 10, 1 / fs)
    plateau = 20.0 * (np.abs(t - 5) < 2)
    smooth = lowpass(plateau, 1.0, fs, order=4)
    tremor = 2.0 * np.sin(2 * np.pi * 6.0 * t)
    out = lowpass(smooth + tremor, 2.0, fs, order=4)
    assert abs(out[500] - 20.0) < 0.1  # plateau height kept
    inner = slice(100, -100)  # away from the padded ends
    assert np.max(np.abs(out - lowpass(smooth, 2.0, fs, order=4))[inner]) < 0.05  # tremor gone


def test_resampler_puts_jittered_samples_on_a_uniform_grid_and_flags_long_gaps():
    rng = np.random.default_rng(2)
    fs = 104.0
    t = 100.0 + np.arange(3000) / fs + rng.uniform(-0.3, 0.3, 3000) / fs
    t_all = np.sort(t)
    keep = np.ones(3000, bool)
    keep[1000:1010] = False  # ~0.1 s: bridged
    keep[2000:2150] = False  # ~1.4 s: a long gap
    t = t_all[keep]
    x = np.column_stack([np.sin(t), np.cos(t)])
    g = resample_uniform(t, x, 50.0)
    assert np.allclose(np.diff(g.t_s), 1 / 50.0)
    assert g.t_s[0] == t[0]
    np.testing.assert_allclose(g.x[g.valid, 0], np.sin(g.t_s[g.valid]), atol=1e-3)
    bad = g.t_s[~g.valid]
    assert bad.size > 0 and bad.min() > t_all[1999] and bad.max() < t_all[2150]  # only inside the long gap
    assert abs(estimate_fs(t) - fs) < 1.0


def test_resampler_gives_the_same_grid_whatever_the_blocks_and_drops_time_going_back():
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.5, 1.5, 1500)) / 100.0
    x = rng.normal(size=(1500, 6))
    whole = resample_uniform(t, x, 50.0)
    r = UniformResampler(50.0)
    parts = [r.push(t[s], x[s]) for s in _blocks(len(t), rng)]
    assert np.array_equal(np.concatenate([p.t_s for p in parts]), whole.t_s)
    np.testing.assert_array_equal(np.vstack([p.x for p in parts]), whole.x)
    # a sample from the past (a duplicate packet) is ignored
    r2 = UniformResampler(50.0)
    r2.push(t[:100], x[:100])
    assert r2.push(t[50:51], x[50:51]).t_s.size == 0


def test_live_sized_blocks_give_the_same_grid_as_one_block_across_gaps_repeats_and_bad_rows():
    # live blocks (a few samples) take the plain-float path, a recording the numpy one: the
    # same grid, gap flags and spans to the last bit
    rng = np.random.default_rng(4)
    t = 10.0 + np.cumsum(rng.uniform(0.005, 0.015, 2000))
    t[500:520] += 0.8  # a long gap ...
    t = np.maximum.accumulate(t)
    t[700] = t[699]  # ... a repeated timestamp, time going back, a row that cannot be read
    t[900] -= 0.05
    x = rng.normal(size=(2000, 6))
    x[1200, 3] = np.nan
    whole = resample_uniform(t, x, 50.0)
    r = UniformResampler(50.0)
    parts = [r.push(t[i : i + 8], x[i : i + 8]) for i in range(0, len(t), 8)]
    for name in ("t_s", "x", "valid", "span_s"):
        got = np.concatenate([getattr(p, name) for p in parts])
        assert np.array_equal(got, getattr(whole, name)), name
    assert not whole.valid.all()
