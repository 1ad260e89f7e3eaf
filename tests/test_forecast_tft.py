"""A tiny real TFT: trains, saves, reloads identically, forecasts the future, refuses bad files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from argus.catalogue import TARGETS
from argus.errors import InvalidInputError
from argus.forecast import artifacts
from argus.forecast.base import (
    HORIZON,
    Calibrated,
    HasMetadata,
    HasReference,
    Interpretable,
    PredictsBuckets,
    TrainOptions,
)
from argus.forecast.public_data import bitbrains_feed
from argus.forecast.tft import TFTForecaster
from argus.forecast.training import train_model
from tests.forecast_support import BITBRAINS, synthetic_fleet, tiny_config

pytestmark = pytest.mark.slow
OPTIONS = TrainOptions(epochs=2, max_minutes=2, seed=1)


@pytest.fixture(scope="module")
def fleet() -> pd.DataFrame:
    return synthetic_fleet(servers=3, days=2.5)


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory, fleet: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("home") / "models"
    train_model(
        fleet, models_dir=path, name="tiny", config=tiny_config().to_dict(), options=OPTIONS
    )
    return path


def test_trained_model_reloads_to_identical_future_forecasts(
    models_dir: Path, fleet: pd.DataFrame
) -> None:
    cwd_before = set(os.listdir("."))
    first = artifacts.load_current(models_dir)
    again = artifacts.load_model(models_dir, "tiny")
    assert first is not None and first.name == "tft:tiny"
    for protocol in (PredictsBuckets, Calibrated, HasMetadata, HasReference, Interpretable):
        assert isinstance(first, protocol), protocol  # what serving, drift and /explain use
    a, b = first.predict(fleet), again.predict(fleet)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.servers == ("ppdb01", "ppetl01", "ppml01") or set(a.servers) == set(
        fleet["server_name"]
    )
    assert a.values.shape == (3, len(TARGETS), HORIZON, 7)
    last = fleet["timestamp"].max()
    assert (a.timestamps[:, 0] == np.datetime64(last + pd.Timedelta(minutes=5))).all()
    assert (a.timestamps[:, -1] == np.datetime64(last + pd.Timedelta(hours=8))).all()
    assert (np.diff(a.values, axis=-1) >= 0).all()
    assert set(a.models) == {"tft:tiny"}
    assert "lightning_logs" not in set(os.listdir(".")) - cwd_before
    meta = artifacts.read_metadata(models_dir, "tiny")
    assert meta["reference"]["cpu_pct"]["std"] > 0 and meta["config"]["hidden_size"] == 4
    assert meta["servers"] == sorted(fleet["server_name"].unique())


def test_unseen_and_short_history_servers(models_dir: Path, fleet: pd.DataFrame) -> None:
    model = artifacts.load_model(models_dir, "tiny")
    unseen = fleet[fleet["server_name"] == "ppdb01"].assign(server_name="newbox7")
    short = unseen.iloc[:6].assign(server_name="ppapi99")  # 30 min < minimum encoder (1 h)
    fs = model.predict(pd.concat([unseen, short]))
    assert fs.model_of("newbox7") == "tft:tiny"
    assert fs.model_of("ppapi99") == "baseline"
    assert fs.timestamps[fs.index("ppapi99"), 0] == np.datetime64(
        short["timestamp"].max() + pd.Timedelta(minutes=5)
    )


def test_corrupt_incompatible_and_outside_models_are_refused(models_dir: Path) -> None:
    bad = models_dir / "bad"
    bad.mkdir()
    meta = artifacts.read_metadata(models_dir, "tiny")
    (bad / "model.ckpt").write_bytes((models_dir / "tiny" / "model.ckpt").read_bytes() + b"x")
    (bad / "metadata.json").write_text(json.dumps({**meta, "name": "bad"}))
    with pytest.raises(artifacts.ModelLoadError, match="sha256"):
        artifacts.load_model(models_dir, "bad")
    (bad / "metadata.json").write_text(json.dumps({**meta, "name": "bad", "catalogue_version": 0}))
    with pytest.raises(artifacts.ModelLoadError, match="catalogue"):
        artifacts.load_model(models_dir, "bad")
    majors = {**meta["library_majors"], "torch": "1"}
    changed = {**meta, "name": "bad", "library_majors": majors}
    (bad / "metadata.json").write_text(json.dumps(changed))
    with pytest.raises(artifacts.ModelLoadError, match="torch"):
        artifacts.load_model(models_dir, "bad")
    for name in ("../tiny", "/etc", "a/b", ".."):
        with pytest.raises(InvalidInputError):
            artifacts.load_model(models_dir, name)
    listed = {m.name: m for m in artifacts.list_models(models_dir)}
    assert listed["tiny"].current and listed["tiny"].problem is None
    assert listed["bad"].problem is not None


def test_incremental_training_continues_from_current_weights(
    models_dir: Path, fleet: pd.DataFrame
) -> None:
    before = artifacts.load_current(models_dir)
    assert before is not None
    result = train_model(
        fleet,
        models_dir=models_dir,
        name="tiny2",
        incremental=True,
        options=TrainOptions(epochs=1, seed=2),
        activate=False,
    )
    assert result.metadata["training"]["incremental_from"] == "tiny"
    assert artifacts.current_name(models_dir) == "tiny"  # --no-activate
    after = artifacts.load_model(models_dir, "tiny2")
    assert after.network is not None and before.network is not None
    assert after.network.dataset_parameters["max_encoder_length"] == 36
    diffs = [
        float((p.detach() - q.detach()).abs().max())
        for p, q in zip(after.network.parameters(), before.network.parameters(), strict=True)
    ]
    assert 0 < max(diffs) < 1.0  # moved a little from the old weights, not re-initialised


@pytest.mark.skipif(not BITBRAINS.exists(), reason="shared Bitbrains data not present")
def test_tiny_tft_on_real_bitbrains_slice() -> None:
    frame = bitbrains_feed(BITBRAINS, vms=3)
    frame = frame[(frame["timestamp"] >= "2013-08-01") & (frame["timestamp"] < "2013-08-03")]
    model = TFTForecaster(tiny_config())
    report = model.fit(frame, options=OPTIONS)
    assert report.epochs_run == 2 and report.best_val_loss is not None
    fs = model.predict(frame)
    assert len(fs.servers) == 3 and set(fs.models) == {"tft:unsaved"}
    assert np.isfinite(fs.values).all()
    assert fs.timestamps[0, 0] == np.datetime64("2013-08-03T00:00")
    with pytest.raises(RuntimeError):
        TFTForecaster(tiny_config()).predict(frame)
