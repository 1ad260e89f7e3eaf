"""A simulated server fleet with labelled incidents and cascades (numpy only, no I/O)."""

from argus.simulate.block import COLUMNS, Block
from argus.simulate.cascades import DEPENDENCIES, Dependency
from argus.simulate.fleet import DEFAULT_SERVERS, Fleet, build_fleet, fleet_names
from argus.simulate.incidents import KINDS, Incident
from argus.simulate.labels import CascadeLabel, IncidentLabel, Labels
from argus.simulate.planner import IncidentRates
from argus.simulate.simulator import (
    DEFAULT_START,
    Simulation,
    Simulator,
    floor_to_step,
    simulate_fleet,
)

__all__ = [
    "COLUMNS",
    "DEFAULT_SERVERS",
    "DEFAULT_START",
    "DEPENDENCIES",
    "KINDS",
    "Block",
    "CascadeLabel",
    "Dependency",
    "Fleet",
    "Incident",
    "IncidentLabel",
    "IncidentRates",
    "Labels",
    "Simulation",
    "Simulator",
    "build_fleet",
    "fleet_names",
    "floor_to_step",
    "simulate_fleet",
]
