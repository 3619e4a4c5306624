"""Magnitude scaling (マグニチュードの換算): the two relations both the scenario (scenario.py: its
`mw`) and the shaking model (shaking.py) need, in a module that imports neither — so the
scenario's data classes and the shaking model that reads them form no import cycle.

- Mw = Mj − 0.171; fault length L = 10^(0.5·Mw − 1.85) km (references in docs/drills.md).
"""

from __future__ import annotations

import numpy as np


def scalar_or_array(value):
    """A 0-d array becomes a Python float, so scalar in → scalar out."""
    value = np.asarray(value)
    return float(value) if value.ndim == 0 else value


def mw_from_mj(mj):
    """Moment magnitude from JMA magnitude: Mw = Mj − 0.171."""
    return scalar_or_array(np.asarray(mj, dtype=float) - 0.171)


def fault_length_km(mw):
    """Fault length from Mw: L = 10^(0.5·Mw − 1.85) km."""
    return scalar_or_array(10.0 ** (0.5 * np.asarray(mw, dtype=float) - 1.85))
