"""The model kinds Argus can train, save and serve, by the name metadata.json's "kind" records.

A kind is a module (imported on first use: the TFT's costs ~4 s of torch and pytorch-forecasting)
that provides

    create(config: dict) -> Trainable      a new, untrained model from its configuration
    load(blob: bytes, metadata: dict, name: str) -> Trainable
                                           a saved model from its checkpoint's (verified) bytes
    describe(model: Trainable) -> dict     what metadata.json records beyond the common fields
    set_threads(threads: int) -> None      only kinds with `threaded=True`

Adding a kind is one module and one entry in `KINDS`; artifacts, training, the CLI and the
daemon dispatch on the name.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from argus.errors import InvalidInputError
from argus.forecast.base import Trainable

DEFAULT_KIND = "tft"


@dataclass(frozen=True)
class ModelKind:
    name: str
    module: str
    summary: str  # one line for `--help` and the docs
    libraries: tuple[str, ...]  # distributions whose major version a saved model must match
    threaded: bool = False  # whether the kind's runtime takes a thread count (torch)

    def _module(self) -> ModuleType:
        return importlib.import_module(self.module)

    def create(self, config: dict[str, Any] | None = None) -> Trainable:
        model: Trainable = self._module().create(dict(config or {}))
        return model

    def load(self, blob: bytes, metadata: dict[str, Any], name: str) -> Trainable:
        model: Trainable = self._module().load(blob, metadata, name)
        return model

    def describe(self, model: Trainable) -> dict[str, Any]:
        extra: dict[str, Any] = self._module().describe(model)
        return extra

    def set_threads(self, threads: int) -> None:
        if self.threaded:
            self._module().set_threads(threads)


KINDS: dict[str, ModelKind] = {
    kind.name: kind
    for kind in (
        ModelKind(
            "tft",
            "argus.forecast.tft",
            "Temporal Fusion Transformer: one global network for the fleet (torch)",
            ("torch", "pytorch-forecasting", "lightning"),
            threaded=True,
        ),
        ModelKind(
            "ets",
            "argus.forecast.ets",
            "damped-trend exponential smoothing per server and metric around a daily profile "
            "(statsmodels)",
            ("statsmodels",),
        ),
    )
}


def get(name: str) -> ModelKind:
    """The kind called `name`; InvalidInputError naming the known ones otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        known = ", ".join(sorted(KINDS))
        raise InvalidInputError(f"unknown model kind {name!r} (known: {known})") from None


def set_threads(threads: int, kinds: tuple[str, ...] | None = None) -> None:
    """Give every threaded kind (or those of `kinds`) `threads` compute threads."""
    for name in kinds or tuple(KINDS):
        get(name).set_threads(threads)
