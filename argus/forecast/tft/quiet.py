"""Silence what torch, Lightning and pytorch-forecasting print that means nothing to an operator.

Lightning sets its own logger to INFO when it is first imported (undoing any earlier setting), so
this imports it first and only then lowers the level; warning filters are installed after the
imports for the same reason (Lightning adds filters of its own on import).
"""

from __future__ import annotations

import logging
import warnings

# Warnings raised inside the libraries about the libraries' own code: nothing a user can act on.
LIBRARY_WARNINGS = (
    r"The given NumPy array is not writable",  # pytorch-forecasting's encoders
    r"Attribute '.*' is an instance of `nn.Module`",  # pytorch-forecasting's save_hyperparameters
    r".*does not have many workers",  # Lightning: we load batches in-process on purpose
    r"The number of training batches .* is smaller than the logging interval",
    r"Checkpoint directory .* exists and is not empty",
    r"Found \d+ unknown classes which were set to NaN",  # servers unseen in training: handled
)

# Lightning's INFO lines: "GPU available", "TPU available", the litlogger tip,
# "Time limit reached", model summaries. Its warnings (WARNING and above) still show.
LIBRARY_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning", "pytorch_forecasting")


def silence_library_noise() -> None:
    """Lower library loggers to WARNING and ignore the warnings listed above."""
    import lightning.pytorch  # noqa: F401 - imported for its side effect on logging, see above
    import pytorch_forecasting  # noqa: F401

    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for message in LIBRARY_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
