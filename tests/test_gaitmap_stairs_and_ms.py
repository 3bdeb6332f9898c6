"""Foot recordings nobody here made, beyond level walking (gaitmap 2.6.0 example data, MIT,
tests/data/gaitmap): a healthy person up and down a long staircase, and a person with multiple
sclerosis walking for a minute. There is no stride truth for them: the checks are that neither is
ever a heel or toe raise, that both feet agree, and that the path climbs or falls as it should."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from movecoach.signal.gait import analyze_walk
from movecoach.signal.reps import count_reps

GAITMAP = Path(__file__).resolve().parent / "data" / "gaitmap"
RECORDINGS = ["stairs_up", "stairs_down", "ms_walk"]


def load(name: str, foot: str):
    """t_s (n,) s, acc (n, 3) m/s^2, gyr (n, 3) rad/s of one foot's sensor."""
    with gzip.open(GAITMAP / f"{name}_{foot}.csv.gz", "rt") as f:
        x = np.loadtxt(f, delimiter=",", skiprows=1)
    return x[:, 0], x[:, 1:4], x[:, 4:7]


@pytest.fixture(scope="module")
def walks():
    return {(name, foot): analyze_walk(*load(name, foot))
            for name in RECORDINGS for foot in ("left", "right")}


@pytest.mark.parametrize("name", RECORDINGS)
@pytest.mark.parametrize("foot", ["left", "right"])
def test_stairs_and_an_ms_walk_are_never_heel_or_toe_raises(name, foot):
    assert count_reps(*load(name, foot), exercise="heel-toe") == []


@pytest.mark.parametrize("name", RECORDINGS)
def test_both_feet_count_the_same_strides_at_the_same_cadence(walks, name):
    # measured: stairs up 20 and 20, down 19 and 19, the MS walk 73 and 73 (130 steps/min)
    left, right = walks[name, "left"], walks[name, "right"]
    assert len(left.strides) >= 15 and abs(len(left.strides) - len(right.strides)) <= 1
    assert left.cadence_spm == pytest.approx(right.cadence_spm, rel=0.03)
    assert len(left.bouts) == len(right.bouts) == 1


def test_the_path_climbs_upstairs_and_falls_downstairs(walks):
    # measured: up +5.5 and +7.0 m, down -3.3 and -3.0 m over about 14 m ahead (a long staircase)
    for foot in ("left", "right"):
        up, down = walks["stairs_up", foot].path_m, walks["stairs_down", foot].path_m
        assert up[-1, 2] - up[0, 2] > 2.0
        assert down[-1, 2] - down[0, 2] < -2.0
