"""Turn a fleet, its incidents and random noise into consistent raw signals, block by block."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.simulate.fleet import STEPS_PER_DAY, Fleet
from argus.simulate.incidents import Incident, IntArray
from argus.simulate.profiles import PROFILE_SPECS, FloatArray, daily_shape

# Noise channels: name, standard deviation, lag-1 autocorrelation (None: the profile's).
# cpu/iowait/mem are in percentage points; the others multiply a level (log scale).
CHANNELS: tuple[tuple[str, float, float | None], ...] = (
    ("cpu", 3.0, None),
    ("iowait", 0.5, 0.8),
    ("mem", 1.0, 0.995),
    ("net_in", 0.25, 0.9),
    ("net_out", 0.25, 0.9),
    ("cw_back", 0.35, 0.85),
    ("cw_front", 0.35, 0.85),
    ("load", 0.08, 0.6),
    ("disk_io", 0.3, 0.8),
)
CPU_JITTER, CPU_BURST, MEM_JITTER = 2.0, 3.0, 0.3  # white noise and bursts, points
NOISE_CLIP = 3.0  # standard deviations; keeps healthy servers clear of critical levels
SWAP_PRESSURE_PCT = 90.0  # memory use above which the kernel starts swapping
MAINTENANCE_REBOOTS_PER_DAY = 1.0 / 45.0
HEALTHY_CEILING = {"busy": 85.0, "iowait": 12.0, "mem": 88.0, "cw_back": 150.0}


@dataclass
class SignalState:
    """What carries over from one block to the next."""

    step: int  # next step to render
    noise: FloatArray  # (channels, servers) AR(1) states, unit variance
    swap: FloatArray
    disk: FloatArray  # disk use before any disk-fill incident
    boot: FloatArray  # step of the last boot (negative: before the simulation)


@dataclass(frozen=True)
class RawBlock:
    """Unrounded signals of `steps` (rows) x servers (columns), plus event masks."""

    steps: IntArray
    minutes: IntArray  # minutes since 1970-01-01 UTC
    activity: FloatArray
    signals: dict[str, FloatArray]
    rebooted: npt.NDArray[np.bool_]


def initial_state(fleet: Fleet, rng: np.random.Generator) -> SignalState:
    """Start every server in a typical state."""
    n = fleet.size
    noise = rng.standard_normal((len(CHANNELS), n))
    lv = fleet.levels
    return SignalState(
        0, noise, lv["swap_floor"].copy(), lv["disk_start"].copy(), -lv["uptime_steps"].copy()
    )


def _phis(fleet: Fleet) -> FloatArray:
    return np.array(
        [fleet.levels["phi"] if phi is None else np.full(fleet.size, phi) for _, _, phi in CHANNELS]
    )


def _ar_noise(fleet: Fleet, state: SignalState, rng: np.random.Generator, n: int) -> FloatArray:
    """Return (steps, channels, servers) AR(1) noise in each channel's units."""
    phi = _phis(fleet)
    innov = rng.standard_normal((n, *phi.shape)) * np.sqrt(1.0 - phi**2)
    out = np.empty_like(innov)
    x = state.noise
    for t in range(n):
        x = phi * x + innov[t]
        out[t] = x
    state.noise = x
    sigma = np.array([s for _, s, _ in CHANNELS])[None, :, None]
    return np.clip(out, -NOISE_CLIP, NOISE_CLIP) * sigma


def _jitter(rng: np.random.Generator, shape: tuple[int, int]) -> dict[str, FloatArray]:
    """Return sample-to-sample noise on top of the AR(1) drift: real CPU is bursty."""
    gauss = np.clip(rng.standard_normal(shape), -NOISE_CLIP, NOISE_CLIP)
    bursts = rng.exponential(CPU_BURST, shape) - CPU_BURST  # mean zero, long upper tail
    mem = np.clip(rng.standard_normal(shape), -NOISE_CLIP, NOISE_CLIP)
    return {"cpu": CPU_JITTER * gauss + bursts, "mem": MEM_JITTER * mem}


def _activity(fleet: Fleet, minutes: IntArray) -> FloatArray:
    hour = (minutes % 1440) / 60.0
    weekend = ((minutes // 1440 + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    out = np.empty((len(minutes), fleet.size))
    for i, profile in enumerate(fleet.profiles):
        out[:, i] = daily_shape(PROFILE_SPECS[profile].shape, hour)
    return out * np.where(weekend[:, None], fleet.levels["weekend"][None, :], 1.0)


def clean_levels(fleet: Fleet, activity: FloatArray) -> dict[str, FloatArray]:
    """Return the noise-free level of each driven signal."""
    lv = fleet.levels
    return {
        "busy": lv["cpu_base"] + lv["cpu_amp"] * activity,
        "iowait": lv["iowait_base"] + lv["iowait_amp"] * activity,
        "mem": lv["mem_base"] + lv["mem_amp"] * activity,
        "cw_back": lv["close_wait_back"] * (0.3 + 0.7 * activity),
    }


def _blend(
    noisy: FloatArray, clean: FloatArray, target: FloatArray | float, weight: FloatArray
) -> FloatArray:
    """Pull a signal towards `target`; noise fades as the incident saturates."""
    return (
        clean + (noisy - clean) * (1.0 - 0.9 * np.minimum(weight, 1.0)) + weight * (target - clean)
    )


def _apply_incidents(
    sig: dict[str, FloatArray],
    clean: dict[str, FloatArray],
    incidents: Iterable[Incident],
    steps: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """Drive the signals of each incident in the block; return disk-fill weights and targets."""
    disk_w = np.zeros_like(sig["mem"])
    disk_target = np.zeros_like(sig["mem"])
    for inc in incidents:
        i, w, channel = inc.server, inc.weight(steps), inc.spec.channel
        if channel == "disk":
            # Several fills may share a block; they never overlap in time.
            disk_w[:, i] += w
            disk_target[:, i] = np.where(w > 0, inc.target, disk_target[:, i])
        elif channel == "cpu":
            target = inc.target - clean["iowait"][:, i]
            sig["busy"][:, i] = _blend(sig["busy"][:, i], clean["busy"][:, i], target, w)
        elif channel == "iowait":
            sig["iowait"][:, i] = _blend(sig["iowait"][:, i], clean["iowait"][:, i], inc.target, w)
            # Processes blocked on I/O stop using the CPU.
            sig["busy"][:, i] *= 1.0 - 0.35 * np.minimum(w, 1.0)
        else:
            sig[channel][:, i] = _blend(sig[channel][:, i], clean[channel][:, i], inc.target, w)
    return disk_w, disk_target


def _integrate(
    fleet: Fleet,
    state: SignalState,
    raw: dict[str, FloatArray],
    reboot: npt.NDArray[np.bool_],
    disk_busy: npt.NDArray[np.bool_],
    minutes: IntArray,
    rng: np.random.Generator,
) -> None:
    """Step swap, disk use and boot time forward; they depend on their own past."""
    n, lv = len(minutes), fleet.levels
    growth = lv["disk_growth_step"] * rng.gamma(2.0, 0.5, size=(n, fleet.size))
    big_cleanup = rng.uniform(8.0, 20.0, size=(n, fleet.size))
    rotation = rng.uniform(0.5, 2.5, size=(n, fleet.size))
    # Weekly log rotation: Sunday 03:00.
    sunday_3am = (((minutes // 1440 + 3) % 7) == 6) & ((minutes % 1440) == 180)
    swap, disk, boot = state.swap, state.disk, state.boot
    raw["swap"], raw["disk_base"], raw["boot"] = (np.empty((n, fleet.size)) for _ in range(3))
    for t in range(n):
        pressure = raw["mem"][t] >= SWAP_PRESSURE_PCT
        swap = np.where(
            pressure,
            np.minimum(100.0, swap + 0.4 * (raw["mem"][t] - SWAP_PRESSURE_PCT + 1.0)),
            np.maximum(lv["swap_floor"], swap - 0.05),
        )
        swap = np.where(reboot[t], lv["swap_floor"], swap)
        disk = disk + growth[t]
        may_clean = ~disk_busy[t]
        disk = np.where(may_clean & (disk >= lv["disk_cleanup_at"]), disk - big_cleanup[t], disk)
        if sunday_3am[t]:
            disk = np.where(may_clean, np.maximum(disk - rotation[t], 1.0), disk)
        boot = np.where(reboot[t], state.step + t, boot)
        raw["swap"][t], raw["disk_base"][t], raw["boot"][t] = swap, disk, boot
    state.swap, state.disk, state.boot = swap, disk, boot


def _reboots(
    fleet: Fleet, incidents: list[Incident], steps: IntArray, rng: np.random.Generator
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Return (reboot, any incident, disk incident) masks of the block."""
    shape = (len(steps), fleet.size)
    busy, disk_busy = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
    reboot = np.zeros(shape, dtype=bool)
    for inc in incidents:
        span = (steps >= inc.onset) & (steps <= inc.last_step)
        busy[:, inc.server] |= span
        if inc.spec.channel == "disk":
            disk_busy[:, inc.server] |= span
        if inc.reboot:
            reboot[:, inc.server] |= steps == inc.end
    planned = rng.random(shape) < MAINTENANCE_REBOOTS_PER_DAY / STEPS_PER_DAY
    return reboot | (planned & ~busy), busy, disk_busy


def render(
    fleet: Fleet,
    state: SignalState,
    incidents: list[Incident],
    rng: np.random.Generator,
    start_minute: int,
    n: int,
) -> RawBlock:
    """Render the next `n` steps of every server and advance `state`."""
    steps = np.arange(state.step, state.step + n, dtype=np.int64)
    minutes = start_minute + 5 * steps
    activity = _activity(fleet, minutes)
    noise = _ar_noise(fleet, state, rng, n)
    clean = clean_levels(fleet, activity)
    chan = {name: k for k, (name, _, _) in enumerate(CHANNELS)}
    jitter = _jitter(rng, (n, fleet.size))
    sig = {
        "busy": clean["busy"] + noise[:, chan["cpu"]] + jitter["cpu"],
        "iowait": clean["iowait"] + noise[:, chan["iowait"]],
        "mem": clean["mem"] + noise[:, chan["mem"]] + jitter["mem"],
        "cw_back": clean["cw_back"] * np.exp(noise[:, chan["cw_back"]]),
    }
    for name, ceiling in HEALTHY_CEILING.items():
        sig[name] = np.clip(sig[name], 0.0, ceiling)
    active = [i for i in incidents if i.onset <= steps[-1] and i.last_step >= steps[0]]
    disk_w, disk_target = _apply_incidents(sig, clean, active, steps)
    sig["iowait"] = np.clip(sig["iowait"], 0.0, 60.0)
    sig["busy"] = np.clip(sig["busy"], 0.3, 99.8 - sig["iowait"])
    sig["mem"] = np.clip(sig["mem"], 1.0, 99.9)
    reboot, _, disk_busy = _reboots(fleet, active, steps, rng)
    _integrate(fleet, state, sig, reboot, disk_busy, minutes, rng)
    sig["disk"] = np.clip(sig["disk_base"] + disk_w * (disk_target - sig["disk_base"]), 0, 99.9)
    for name in ("net_in", "net_out", "cw_front", "load", "disk_io"):
        sig[f"{name}_noise"] = noise[:, chan[name]]
    state.step += n
    return RawBlock(steps, minutes, activity, sig, reboot)
