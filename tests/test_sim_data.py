"""The committed example recordings: readable by analyze, truth consistent, and still reproduced
exactly by the simulator (a change to either is a deliberate, reviewed change)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from movecoach.sim import Conditions, simulate
from movecoach.store.csvio import read_csv

DATA = Path(__file__).parent / "data"
FILES = sorted(DATA.glob("*.csv"))
KINDS = {"heel-toe": {"heel_raise", "toe_raise"}, "march": {"lift"}, "wall-slide": {"slide"}}


def test_there_is_a_clean_and_a_hard_example_of_every_exercise():
    names = {f.stem for f in FILES}
    assert names == {f"{e}_{c}" for e in ("heel-toe", "march", "wall-slide", "sway") for c in ("clean", "hard")}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_example_is_readable_and_its_truth_is_consistent(path):
    rec = read_csv(path)
    truth = json.loads(path.with_suffix(".json").read_text())
    exercise, condition = path.stem.rsplit("_", 1)
    assert truth["exercise"] == exercise
    assert rec.fs == pytest.approx(truth["fs"], rel=0.01)
    assert 15 <= rec.duration_s <= 90 and path.stat().st_size < 300_000
    if exercise == "sway":
        assert truth["reps"] == [] and truth["metrics"]["rms"] > 0
        return
    requested = truth["requested"]["reps"]
    assert truth["counts"] == {k: requested for k in KINDS[exercise]}
    for r in truth["reps"]:
        assert rec.t_s[0] < r["t_start"] < r["t_peak"] < r["t_end"] < rec.t_s[-1]
    if condition == "hard":
        assert truth["distractors"] and np.diff(rec.t_s).max() > 4 / rec.fs  # lost samples


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_simulator_still_reproduces_the_example(path):
    stored = read_csv(path)
    truth = json.loads(path.with_suffix(".json").read_text())
    req = truth["requested"]
    rec = simulate(truth["exercise"], req["reps"], fs=truth["fs"], seed=truth["seed"],
                   conditions=Conditions.from_json(truth["conditions"]), duration_s=req["duration_s"],
                   hold_s=req["hold_s"], pattern=req["pattern"])
    now = json.loads(json.dumps(rec.truth))
    # sway metrics (movecoach.sim.sway_truth, the written definitions) must hold to rounding;
    # the centroid frequency (its Welch estimate not part of the written contract) may be refined
    now_m, stored_m = now.pop("metrics", {}), truth.pop("metrics", {})
    assert now == truth
    for k in ("rms_ap", "rms_ml", "rms", "range_ap", "range_ml", "path_length", "mean_velocity", "jerk",
              "ellipse_area_95", "duration_s"):
        if stored_m:
            assert now_m[k] == pytest.approx(stored_m[k], rel=1e-3), k
    assert np.allclose(rec.t_s, stored.t_s, atol=1e-4)
    assert np.allclose(rec.acc_m_s2, stored.acc_m_s2, rtol=1e-4, atol=1e-4)
    assert np.allclose(rec.gyr_rad_s, stored.gyr_rad_s, rtol=1e-4, atol=1e-5)
