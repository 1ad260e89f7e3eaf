"""Incident kinds and the time course of one incident."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.simulate.profiles import FloatArray, Range

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class KindSpec:
    """How one kind of incident moves one signal of a server."""

    metric: str  # the argus.thresholds metric it breaches
    channel: str  # the simulated signal it drives
    target: Range  # value the signal reaches when the incident saturates
    exponent: float  # 1: linear climb (leaks); >1: slow start, then accelerating
    cap: float  # how far the ramp may run past saturation (a leak keeps leaking)
    plateau_minutes: Range  # time at saturation before someone fixes it
    decay_minutes: Range  # 0: the fix is instant (restart, clean-up, kill)
    reboot_probability: float  # the fix is a reboot (uptime resets)
    description: str


KINDS: dict[str, KindSpec] = {
    "memory_leak": KindSpec(
        "mem_pct",
        "mem",
        (99.2, 99.8),
        1.0,
        1.0,
        (30, 90),
        (0, 0),
        0.5,
        "heap grows linearly until memory is exhausted, then swap fills; fixed by a restart",
    ),
    "disk_fill": KindSpec(
        "disk_pct",
        "disk",
        (97.0, 99.5),
        1.0,
        1.0,
        (30, 120),
        (0, 0),
        0.0,
        "a runaway log or spool file fills the disk; fixed by a clean-up",
    ),
    "cpu_runaway": KindSpec(
        "cpu_pct",
        "cpu",
        (99.0, 99.8),
        1.5,
        1.0,
        (30, 60),
        (0, 0),
        0.0,
        "a spinning process takes more and more CPU; fixed by killing it",
    ),
    "iowait_storm": KindSpec(
        "iowait_pct",
        "iowait",
        (38.0, 55.0),
        2.0,
        1.0,
        (30, 60),
        (15, 45),
        0.0,
        "I/O queues build up (failing disk, noisy neighbour); drains slowly once fixed",
    ),
    "connection_leak": KindSpec(
        "back_close_wait",
        "cw_back",
        (530.0, 600.0),
        1.0,
        1.6,
        (30, 60),
        (0, 0),
        0.0,
        "back-end sockets are never closed and pile up in CLOSE_WAIT; fixed by a restart",
    ),
}
KIND_NAMES: tuple[str, ...] = tuple(KINDS)

NATURAL, INJECTED, CASCADE = "natural", "injected", "cascade"


@dataclass(frozen=True)
class Incident:
    """One incident on one server; steps count 5-minute ticks from the simulation start."""

    id: str
    server: int
    kind: str
    onset: int  # first step the incident moves the signal
    ramp: int  # steps from onset to saturation
    end: int  # first step after the fix
    decay: int  # steps the signal takes to return to normal after the fix
    target: float
    strength: float = 1.0  # cascades hit dependents partially
    reboot: bool = False
    cause: str = NATURAL
    cascade_id: str | None = None

    @property
    def spec(self) -> KindSpec:
        return KINDS[self.kind]

    @property
    def last_step(self) -> int:
        """Return the last step the incident still affects."""
        return self.end + self.decay

    @property
    def saturation(self) -> int:
        """Return the step the signal reaches its target (when dependents start to suffer)."""
        return self.onset + self.ramp

    def weight(self, steps: IntArray) -> FloatArray:
        """Return how far (0 none, 1 saturated) the incident has pushed its signal at `steps`."""
        spec = self.spec
        x = np.clip((steps - self.onset) / self.ramp, 0.0, spec.cap)
        rising = x**spec.exponent
        at_fix = float(np.clip((self.end - 1 - self.onset) / self.ramp, 0.0, spec.cap))
        at_fix **= spec.exponent
        if self.decay:
            fading = at_fix * np.clip(1.0 - (steps - self.end + 1) / (self.decay + 1), 0.0, 1.0)
        else:
            fading = np.zeros_like(rising)
        return self.strength * np.where(steps < self.end, rising, fading)
