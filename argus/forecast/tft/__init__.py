"""The Temporal Fusion Transformer kind (pytorch-forecasting): one global model per fleet.

The only package that imports torch, pytorch-forecasting or Lightning, and only code inside
`argus.forecast` imports it (the registry, lazily): the rest of Argus reaches the model through
the protocols of `argus.forecast.base`. This module is the kind's entry in the registry
(`create`, `load`, `describe`, `set_threads`). `model.py` is the forecaster, `dataset.py` the
`TimeSeriesDataSet` path, `fast.py` the fast prediction path, `interpret.py` the interpretation
/explain reads.
"""

from __future__ import annotations

import io
from dataclasses import fields
from typing import Any

import torch

from argus.errors import InvalidInputError
from argus.forecast.tft.dataset import (
    ArrayScaler,  # checkpoints pickle it under this package
    dataset_summary,
)
from argus.forecast.tft.model import (
    FAST_BATCH,
    NETWORK_CLASS,
    FitReport,
    TFTConfig,
    TFTForecaster,
    library_versions,
)
from argus.forecast.tft.quiet import silence_library_noise

__all__ = [
    "FAST_BATCH",
    "NETWORK_CLASS",
    "ArrayScaler",
    "FitReport",
    "TFTConfig",
    "TFTForecaster",
    "create",
    "describe",
    "library_versions",
    "load",
    "set_threads",
]


def set_threads(threads: int) -> None:
    """Torch's intra-op threads, and a quiet Lightning (its banners are not for Argus's users).

    With 2 threads a TFT step is ~18x slower when another process competes for the CPU, so the
    daemon and its training child use 1 (`ARGUS_TORCH_THREADS`).
    """
    torch.set_num_threads(threads)
    silence_library_noise()


def create(config: dict[str, Any]) -> TFTForecaster:
    """An untrained TFT from a configuration dict (`TFTConfig`'s fields; others are refused)."""
    known = {f.name for f in fields(TFTConfig)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise InvalidInputError(
            f"unknown TFT settings {unknown}; known: {', '.join(sorted(known))}"
        )
    settings = dict(config)
    if "quantiles" in settings:
        settings["quantiles"] = tuple(settings["quantiles"])
    # not TFTConfig.from_dict: its defaults for missing keys are those of older saved models
    return TFTForecaster(TFTConfig(**settings))


def load(blob: bytes, metadata: dict[str, Any], name: str) -> TFTForecaster:
    """A saved TFT from its checkpoint's bytes (verified against metadata.json by the caller:
    unpickling is safe only because they match the sha256 Argus recorded)."""
    network = NETWORK_CLASS.load_from_checkpoint(io.BytesIO(blob), map_location="cpu")
    forecaster = TFTForecaster(
        TFTConfig.from_dict(metadata["config"]), model_name=name, network=network
    )
    forecaster.metadata = metadata
    return forecaster


def describe(model: TFTForecaster) -> dict[str, Any]:
    """What metadata.json records of a trained TFT beyond the common fields."""
    return {"dataset": dataset_summary(model), "libraries": library_versions()}
