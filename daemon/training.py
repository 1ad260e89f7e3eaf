"""Training in a child process: start, follow, cancel, then promote the candidate only if better.

The daemon holds the DuckDB file, so it exports the training history to a Parquet file and runs
`argus train --data FILE --no-activate` as a child process (the API stays responsive; cancel
really stops it). When the child finishes, the candidate and the serving model are backtested on
the most recent hours, which the candidate did not train on; the candidate is hot-swapped in only
if its median MASE is lower, otherwise it is kept on disk and reported.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from argus.errors import ArgusError
from argus.forecast.base import Configurable
from argus.storage import drift as runs_db
from argus.storage.history import export_feed

if TYPE_CHECKING:
    from argus.config import Settings
    from argus.daemon.promotion import Comparison
    from argus.daemon.services import Services

log = logging.getLogger("argus.training")


class TrainingConflictError(ArgusError):
    """A training run is already in progress, or the cooldown has not passed."""

    http_status = 409


@dataclass
class TrainingRun:
    """One child training process and what became of it."""

    id: str
    model_name: str
    reason: str
    epochs: int
    incremental: bool
    started_at: datetime
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None
    status: str = "running"  # running, evaluating, promoted, kept, failed, cancelled
    detail: str = ""
    finished_at: datetime | None = None
    started_mono: float = field(default_factory=time.monotonic)
    comparison: Comparison | None = None
    follower: threading.Thread | None = None  # waits for the child, then evaluates

    @property
    def live(self) -> bool:
        return self.status in ("running", "evaluating")

    def progress(self) -> dict[str, Any] | None:
        """The child's last progress report (JSON lines it appends to progress.jsonl)."""
        try:
            lines = (self.workdir / "progress.jsonl").read_text(encoding="utf-8").splitlines()
        except OSError:
            return None
        for line in reversed(lines):
            try:
                return dict(json.loads(line))
            except ValueError:
                continue
        return None


def train_argv(run: TrainingRun, settings: Settings, data: Path, spec: list[str]) -> list[str]:
    """The `argus train` command line of a run (our own interpreter, fixed arguments)."""
    argv = [
        sys.executable,
        "-c",
        "from argus.cli.main import main; main()",
        "train",
        "--data",
        str(data),
        "--home",
        str(settings.home),
        "--name",
        run.model_name,
        "--epochs",
        str(run.epochs),
        "--max-minutes",
        f"{settings.retrain_max_minutes:g}",
        "--patience",
        str(settings.retrain_patience),
        "--no-activate",
        "--progress-file",
        str(run.workdir / "progress.jsonl"),
        "--torch-threads",
        "1",
        "--json",
    ]
    return argv + spec + (["--incremental"] if run.incremental else [])


def model_spec(forecaster: object, workdir: Path) -> list[str]:
    """Train the candidate as the serving model's kind and size, so the two compare like for
    like: `--kind` and its configuration (a JSON file in the run's folder). A baseline serving:
    the default kind."""
    if not isinstance(forecaster, Configurable):
        return []
    path = workdir / "model_config.json"
    path.write_text(json.dumps(forecaster.config_dict(), indent=2) + "\n", encoding="utf-8")
    return ["--kind", forecaster.kind, "--model-config", str(path)]


class TrainingManager:
    """At most one training child at a time; its state is what /admin/training-status shows.

    Starting and cancelling are serialised (one lock held across the whole operation, waits
    included), and a new run is refused while any earlier child has not exited, so every child
    is tracked until it exits and no two runs overlap.
    """

    def __init__(self, services: Services) -> None:
        self._services = services
        self._lock = threading.Lock()  # guards run state transitions (short)
        self._ops = threading.Lock()  # serialises request() and cancel() (may wait)
        self._children: list[subprocess.Popen[bytes]] = []
        self.run: TrainingRun | None = None

    def request(
        self, *, reason: str, cooldown: bool, epochs: int | None = None, incremental: bool = False
    ) -> TrainingRun:
        """Start a training run; TrainingConflictError if one runs or the cooldown holds."""
        with self._ops:
            self._refuse_if_busy()
            if cooldown:
                self._check_cooldown()
            if self._services.window.latest is None:
                raise TrainingConflictError("no data to train on yet")
            run = self._start(reason, epochs, incremental)
            # Started under the lock, so a cancel() that follows always has a follower to join.
            run.follower = threading.Thread(
                target=self._follow, args=(run,), name=f"train-{run.id}", daemon=True
            )
            run.follower.start()
        log.info("training %s started (%s, %d epochs)", run.id, reason, run.epochs)
        return run

    def _refuse_if_busy(self) -> None:
        if self.run is not None and self.run.live:
            raise TrainingConflictError(f"training {self.run.id} is already running")
        self._children = [c for c in self._children if c.poll() is None]
        if self._children:
            raise TrainingConflictError(
                f"the previous training process (pid {self._children[0].pid}) is still exiting"
            )

    def _start(self, reason: str, epochs: int | None, incremental: bool) -> TrainingRun:
        """Record the run, then start its child; a child that fails to start fails the run."""
        s = self._services.settings
        now = self._services.clock()
        # The seconds alone collide when runs start within one second (trigger, cancel, trigger).
        run_id = f"tft-{reason}-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        workdir = s.home / "training" / run_id
        workdir.mkdir(parents=True, exist_ok=True)
        run = TrainingRun(
            run_id, run_id, reason, epochs or s.retrain_epochs, incremental, now, workdir
        )
        runs_db.start_run(
            self._services.store, run.id, now, reason, run.model_name, run.epochs, incremental
        )
        self.run = run
        try:
            data = self._export_history(workdir)
            spec = model_spec(self._services.models.current.forecaster.model, workdir)
            with open(workdir / "train.log", "wb") as out:
                run.proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
                    train_argv(run, s, data, spec),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except Exception as exc:
            self._finish(run, "failed", None, f"could not start: {exc}")
            raise
        self._children.append(run.proc)
        return run

    def _check_cooldown(self) -> None:
        s = self._services.settings
        last = runs_db.last_started(self._services.store, reason="drift")
        if last is not None:
            wait = last + timedelta(hours=s.retrain_cooldown_hours) - self._services.clock()
            if wait > timedelta(0):
                raise TrainingConflictError(
                    f"retraining cooldown: next drift-triggered training in {wait}"
                )

    def _export_history(self, workdir: Path) -> Path:
        """Write the training history (all but the held-out recent hours) as Parquet."""
        s, latest = self._services.settings, self._services.window.latest
        assert latest is not None  # noqa: S101 - checked by request()
        end = latest - timedelta(hours=s.retrain_holdout_hours)
        path = workdir / "history.parquet"
        export_feed(self._services.store, path, latest - timedelta(days=s.retrain_days), end)
        return path

    def cancel(self) -> TrainingRun | None:
        """Stop the running child (SIGTERM, then SIGKILL); the serving model is untouched.

        Returns once the child has exited and the run is recorded as cancelled."""
        with self._ops:
            with self._lock:
                run = self.run
                if run is None or run.status != "running" or run.proc is None:
                    return None
                run.status = "cancelled"
            run.proc.terminate()
            try:
                run.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                run.proc.kill()
                run.proc.wait()
            if run.follower is not None:
                run.follower.join(timeout=30)  # so the stored run says "cancelled" on return
        log.info("training %s cancelled", run.id)
        return run

    def _follow(self, run: TrainingRun) -> None:
        """Wait for the child, then evaluate and maybe promote the candidate."""
        assert run.proc is not None  # noqa: S101 - set before the thread starts
        code = run.proc.wait()
        with self._lock:  # cancel() decides under the same lock: cancelled or evaluating
            cancelled = run.status == "cancelled"
            if not cancelled and code == 0:
                run.status = "evaluating"
        if cancelled:
            self._discard_candidate(run)
            self._finish(run, "cancelled", None, "cancelled by request")
            return
        if code != 0:
            tail = (run.workdir / "train.log").read_text(errors="replace")[-400:]
            self._finish(run, "failed", None, f"exit status {code}: {tail.strip()}")
            return
        try:
            from argus.daemon.promotion import evaluate_and_promote

            run.comparison = evaluate_and_promote(self._services, run.model_name)
        except Exception as exc:
            log.exception("evaluating %s failed", run.model_name)
            self._finish(run, "failed", None, f"evaluation failed: {exc}")
            return
        promoted = run.comparison.promoted
        self._finish(run, "promoted" if promoted else "kept", promoted, run.comparison.detail)

    def _discard_candidate(self, run: TrainingRun) -> None:
        """A cancelled run leaves no model behind (the child may have saved one as it stopped)."""
        from argus.forecast.artifacts import models_dir_for

        candidate = models_dir_for(self._services.settings.home) / run.model_name
        if candidate.is_dir() and not candidate.is_symlink():
            shutil.rmtree(candidate, ignore_errors=True)

    def _finish(self, run: TrainingRun, status: str, promoted: bool | None, detail: str) -> None:
        run.status, run.detail, run.finished_at = status, detail, self._services.clock()
        runs_db.finish_run(self._services.store, run.id, run.finished_at, status, promoted, detail)
        log.info("training %s %s: %s", run.id, status, detail)
