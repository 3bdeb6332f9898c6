"""Standard gravity: the one value of g in movecoach (analysis, host, simulator, file units).

9.80665 m/s^2 is the conventional standard (CGPM 1901), the g of the IMU datasheets' sensitivities
(micro-g per count) and of files recorded in g. Local gravity differs by up to 0.3 % (9.78 at the
equator, 9.83 at the poles); nothing here depends on it closer than the orientation filter's
gates (movecoach.signal.orientation), which are ten times wider.
"""

STANDARD_GRAVITY_M_S2 = 9.80665
