"""movecoach.signal: pure numpy/scipy analysis of IMU samples, no I/O.

Batch functions take whole arrays (``fs=`` in Hz everywhere); streaming classes take samples as
they arrive and return events. Units: seconds, m/s^2 specific force, rad/s, degrees for angles.
"""
