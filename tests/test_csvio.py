"""The analyze CSV: round trips, and a one-line error naming file, line and problem for bad input."""

from __future__ import annotations

import numpy as np
import pytest

from movecoach.errors import UserError
from movecoach.store.csvio import HEADER, read_csv, write_csv

GOOD_ROW = "{t:.4f},0.01,-0.02,9.81,0.001,0.002,-0.003"


def csv_text(n: int = 300, fs: float = 100.0, t0: float = 0.0) -> list[str]:
    return [",".join(HEADER)] + [GOOD_ROW.format(t=t0 + k / fs) for k in range(n)]


def write_lines(path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def error_of(path) -> str:
    with pytest.raises(UserError) as exc:
        read_csv(path)
    msg = str(exc.value)
    assert "\n" not in msg
    assert str(path) in msg
    return msg


def test_write_then_read_gives_the_same_samples(tmp_path):
    rng = np.random.default_rng(0)
    t = 1234.5 + np.arange(500) / 104.0
    acc = rng.normal(0, 3, (500, 3)) + [0, 0, 9.81]
    gyr = rng.normal(0, 0.5, (500, 3))
    write_csv(tmp_path / "r.csv", t, acc, gyr)
    rec = read_csv(tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().splitlines()[0] == "t,ax,ay,az,gx,gy,gz"
    assert np.allclose(rec.t_s, t, atol=1e-6)
    assert np.allclose(rec.acc_m_s2, acc, rtol=1e-5, atol=1e-9)
    assert np.allclose(rec.gyr_rad_s, gyr, rtol=1e-5, atol=1e-9)
    assert rec.fs == pytest.approx(104.0, rel=1e-4)
    assert rec.duration_s == pytest.approx(499 / 104.0, rel=1e-6)


def test_irregular_times_with_gaps_are_fine_and_fs_comes_from_the_median_interval(tmp_path):
    t = np.arange(1000) / 50.0
    t = np.delete(t, np.r_[100:130, 500:505])  # lost packets
    t[::7] += 0.003  # jitter
    write_csv(tmp_path / "g.csv", t, np.zeros((len(t), 3)), np.zeros((len(t), 3)))
    rec = read_csv(tmp_path / "g.csv")
    assert len(rec) == len(t)
    assert rec.fs == pytest.approx(50.0, rel=0.01)


def test_windows_line_endings_and_a_byte_order_mark_are_accepted(tmp_path):
    p = tmp_path / "w.csv"
    p.write_bytes(("\ufeff" + "\r\n".join(csv_text()) + "\r\n").encode("utf-8"))
    assert len(read_csv(p)) == 300


def test_missing_file(tmp_path):
    assert "no such file" in error_of(tmp_path / "nope.csv")


def test_empty_file(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("")
    assert "empty file or missing header" in error_of(p)


def test_header_only(tmp_path):
    assert "no samples" in error_of(write_lines(tmp_path / "h.csv", csv_text(0)))


def test_misnamed_column_is_named(tmp_path):
    lines = csv_text()
    lines[0] = "t,ax,ay,az,wx,gy,gz"
    msg = error_of(write_lines(tmp_path / "m.csv", lines))
    assert ":1:" in msg and "missing gx" in msg and "'wx'" in msg


def test_missing_column(tmp_path):
    lines = [",".join(HEADER[:-1])] + [r.rsplit(",", 1)[0] for r in csv_text()[1:]]
    msg = error_of(write_lines(tmp_path / "c.csv", lines))
    assert "missing gz" in msg


def test_columns_in_another_order(tmp_path):
    lines = csv_text()
    lines[0] = "t,gx,gy,gz,ax,ay,az"
    assert "wrong order" in error_of(write_lines(tmp_path / "o.csv", lines))


def test_non_numeric_cell_names_line_and_column(tmp_path):
    lines = csv_text()
    lines[42] = lines[42].replace("9.81", "9,81x").replace(",81x", "81x")
    msg = error_of(write_lines(tmp_path / "n.csv", lines))
    assert ":43:" in msg and "az" in msg and "'981x'" in msg


def test_short_row_names_its_line(tmp_path):
    lines = csv_text()
    lines[10] = lines[10].rsplit(",", 2)[0]
    msg = error_of(write_lines(tmp_path / "s.csv", lines))
    assert ":11:" in msg and "5 values, expected 7" in msg


def test_blank_line_inside_the_data(tmp_path):
    lines = csv_text()
    lines.insert(20, "")
    assert ":21: empty line" in error_of(write_lines(tmp_path / "b.csv", lines))


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_nan_or_inf_names_line_and_column(tmp_path, bad):
    lines = csv_text()
    lines[100] = lines[100].replace("0.002", bad)
    msg = error_of(write_lines(tmp_path / "x.csv", lines))
    assert ":101:" in msg and "gy" in msg and "finite" in msg


def test_time_going_backwards(tmp_path):
    lines = csv_text()
    lines[50], lines[51] = lines[51], lines[50]
    msg = error_of(write_lines(tmp_path / "t.csv", lines))
    assert ":52:" in msg and "backwards" in msg


def test_a_logger_that_writes_one_time_twice_is_read_with_one_warning(tmp_path, caplog):
    # two real walking recordings (IPOL 2023) were refused outright for this: the logger repeated
    # a timestamp. The repeat is dropped (the first sample kept), once-warned; backwards stays an error
    lines = csv_text()
    for i in (60, 90):  # this row's time is the row before's
        lines[i] = lines[i - 1].split(",", 1)[0] + "," + lines[i].split(",", 1)[1]
    path = write_lines(tmp_path / "d.csv", lines)
    with caplog.at_level("WARNING"):
        rec = read_csv(path)
    assert len(rec) == len(lines) - 3  # header and the two repeats
    assert np.all(np.diff(rec.t_s) > 0)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "2 samples repeat" in warnings[0] and "line 61" in warnings[0]


def test_less_than_two_seconds(tmp_path):
    msg = error_of(write_lines(tmp_path / "short.csv", csv_text(150, fs=100.0)))
    assert "1.49 s" in msg and "at least 2 s" in msg


@pytest.mark.parametrize("fs", [10.0, 1000.0])
def test_rate_outside_25_to_400_hz(tmp_path, fs):
    msg = error_of(write_lines(tmp_path / "r.csv", csv_text(int(3 * fs), fs=fs)))
    assert "sample rate" in msg and "25-400 Hz" in msg


def test_milliseconds_instead_of_seconds_is_caught_by_the_rate_check(tmp_path):
    lines = [",".join(HEADER)] + [GOOD_ROW.format(t=k * 10.0) for k in range(500)]
    assert "is t in seconds?" in error_of(write_lines(tmp_path / "ms.csv", lines))


def test_write_rejects_mismatched_shapes(tmp_path):
    with pytest.raises(ValueError, match="expected t"):
        write_csv(tmp_path / "x.csv", np.arange(3.0), np.zeros((2, 3)), np.zeros((3, 3)))


def test_a_directory_is_not_a_csv(tmp_path):
    assert "is a directory" in error_of(tmp_path)


def test_a_binary_file_is_not_a_csv(tmp_path):
    p = tmp_path / "b.csv"
    p.write_bytes(b"t,ax,ay,az,gx,gy,gz\n\xff\xfe\x00\x01")
    assert "not a text CSV file" in error_of(p)


def test_trailing_blank_lines_and_spaces_are_ignored(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("\n".join(csv_text()) + "\n\n  \n\n")
    assert len(read_csv(p)) == 300


def test_old_mac_line_endings_are_accepted(tmp_path):
    p = tmp_path / "cr.csv"
    p.write_bytes(("\r".join(csv_text()) + "\r").encode())
    rec = read_csv(p)
    assert len(rec) == 300 and rec.fs == pytest.approx(100.0)


def test_a_line_of_spaces_inside_the_data_is_an_empty_line(tmp_path):
    lines = csv_text()
    lines.insert(30, "   ")
    assert ":31: empty line" in error_of(write_lines(tmp_path / "s.csv", lines))


def test_the_fast_path_reads_the_same_numbers_as_float(tmp_path):
    rng = np.random.default_rng(7)
    vals = rng.normal(0, 1, (400, 6)) * 10.0 ** rng.integers(-7, 2, (400, 6))  # within full scale
    t = 50.0 + np.arange(400) / 100.0
    lines = [",".join(HEADER)] + [",".join([f"{t[i]:.6f}"] + [repr(float(v)) for v in vals[i]]) for i in range(400)]
    rec = read_csv(write_lines(tmp_path / "f.csv", lines))
    want = np.array([[float(c) for c in line.split(",")] for line in lines[1:]])
    assert np.array_equal(np.column_stack([rec.t_s, rec.acc_m_s2, rec.gyr_rad_s]), want)
