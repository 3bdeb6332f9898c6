"""Latency from a rep event to the start of its spoken count (espeak-ng), median and p95.

    .venv/bin/python benchmarks/speech_latency.py [--reps 20] [--interval 1.0] [--play]

By default each count is rendered (``--stdout``) and the latency runs to the first audio bytes;
the worker then stays busy for the audio's length (as a speaker would), so with a short
``--interval`` you also see counts being skipped. ``--play`` plays through the sound card
instead (latency = espeak-ng process started; nothing is measured without an audio device).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from movecoach.events import Rep
from movecoach.sinks.speech import SpeechSink


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between reps")
    parser.add_argument("--rate", type=int, default=160, help="words per minute")
    parser.add_argument("--voice", default=None)
    parser.add_argument("--play", action="store_true", help="play instead of rendering")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        sink = SpeechSink(voice=args.voice, rate_wpm=args.rate,
                          wav_dir=None if args.play else tmp, realtime=not args.play)
        start = time.monotonic()
        for n in range(1, args.reps + 1):
            time.sleep(max(0.0, start + (n - 1) * args.interval - time.monotonic()))
            t_s = time.time()
            sink.handle(Rep(t_s=t_s, session_id="bench", device_id="bench", exercise="heel-toe",
                            rep_kind="heel_raise", count=n, set=1, amplitude_deg=20.0, hold_s=0.5,
                            t_end_host_s=t_s))
        sink.close()
    lat_ms = np.array(sink.latencies_s) * 1000
    print(f"reps: {args.reps} every {args.interval:.2f} s; spoken: {len(sink.spoken)} "
          f"(last: {sink.spoken[-1] if sink.spoken else '-'}); mode: {'play' if args.play else 'render'}")
    if lat_ms.size == 0:
        print("no latency measured (no audio device?)")
        return 1
    print(f"latency rep -> start of audio: median {np.median(lat_ms):.0f} ms, "
          f"p95 {np.percentile(lat_ms, 95):.0f} ms, max {lat_ms.max():.0f} ms (n={lat_ms.size})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
