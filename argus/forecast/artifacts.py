"""The models directory: saving, listing, verifying and loading models; the "current" pointer.

Layout: `<home>/models/<name>/model.ckpt` + `metadata.json`, and `<home>/models/current`, a text
file naming the served model; metadata.json's "kind" names the registry's kind that reads the
checkpoint. A checkpoint may be a pickle (the TFT's Lightning checkpoint), and unpickling is code
execution, so every load here (the only place that loads one) reads only from inside the models
directory Argus owns, by a validated name, and verifies the checkpoint's sha256 against
metadata.json before a single byte is unpickled.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata as pkg_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from argus.catalogue import CATALOGUE_VERSION, TARGETS
from argus.errors import ArgusError, InvalidInputError
from argus.forecast import registry

if TYPE_CHECKING:
    from argus.forecast.base import Trainable

CHECKPOINT_FILE = "model.ckpt"
METADATA_FILE = "metadata.json"
CURRENT_FILE = "current"
FORMAT_VERSION = 1
MAX_CHECKPOINT_BYTES = 512 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ModelLoadError(ArgusError):
    """A model is missing, corrupt (checksum, unreadable) or incompatible with this Argus."""

    http_status = 409
    exit_status = 1


def models_dir_for(home: Path) -> Path:
    return home / "models"


def validate_name(name: str) -> str:
    """A model name is a plain directory name: letters, digits, '.', '_', '-'; no '..'."""
    if not _NAME.match(name) or ".." in name:
        raise InvalidInputError(
            f"invalid model name {name!r}: use letters, digits, '.', '_' and '-' (max 64)"
        )
    return name


def model_path(models_dir: Path, name: str) -> Path:
    """The directory of model `name`, refusing anything that would leave `models_dir`."""
    path = models_dir / validate_name(name)
    if path.is_symlink() or path.resolve().parent != models_dir.resolve():
        raise InvalidInputError(f"model {name!r} is not inside {models_dir}")
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_majors(libraries: tuple[str, ...]) -> dict[str, str]:
    """Installed major versions of the libraries a checkpoint depends on (no imports); a saved
    model's must match them to load (each kind names its own, `registry.ModelKind.libraries`)."""
    out = {}
    for lib in libraries:
        try:
            out[lib] = pkg_metadata.version(lib).split(".")[0]
        except pkg_metadata.PackageNotFoundError:
            out[lib] = "missing"
    return out


def save_model(
    models_dir: Path, name: str, forecaster: Trainable, metadata: dict[str, Any]
) -> Path:
    """Write a trained model as `<models_dir>/<name>/` atomically (temp dir, then rename)."""
    final = model_path(models_dir, name)
    if final.exists():
        raise InvalidInputError(f"model {name!r} already exists in {models_dir}")
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=models_dir))
    try:
        forecaster.write_checkpoint(tmp / CHECKPOINT_FILE)
        record = dict(metadata)
        record.update(
            name=name,
            format_version=FORMAT_VERSION,
            checkpoint=CHECKPOINT_FILE,
            sha256=sha256_file(tmp / CHECKPOINT_FILE),
            library_majors=library_majors(registry.get(forecaster.kind).libraries),
        )
        (tmp / METADATA_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def read_metadata(models_dir: Path, name: str) -> dict[str, Any]:
    path = model_path(models_dir, name) / METADATA_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelLoadError(f"model {name!r} not found in {models_dir}") from exc
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"model {name!r}: unreadable {METADATA_FILE}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelLoadError(f"model {name!r}: {METADATA_FILE} is not an object")
    return data


def check_compatible(meta: dict[str, Any]) -> None:
    """Raise ModelLoadError unless this Argus can serve the model `meta` describes."""
    name = meta.get("name", "?")
    problems = []
    if meta.get("format_version") != FORMAT_VERSION:
        problems.append(f"format {meta.get('format_version')} (need {FORMAT_VERSION})")
    if meta.get("catalogue_version") != CATALOGUE_VERSION:
        problems.append(
            f"metric catalogue v{meta.get('catalogue_version')} (this Argus: v{CATALOGUE_VERSION})"
        )
    if tuple(meta.get("targets", ())) != TARGETS:
        problems.append(f"targets {meta.get('targets')} (need {list(TARGETS)})")
    recorded = meta.get("library_majors") or {}
    have = library_majors(tuple(recorded))
    for lib, major in recorded.items():
        if lib in have and have[lib] != major:
            problems.append(f"{lib} {major}.x (installed {have[lib]}.x)")
    if meta.get("kind") not in registry.KINDS:
        problems.append(f"kind {meta.get('kind')!r} (known: {', '.join(sorted(registry.KINDS))})")
    if problems:
        raise ModelLoadError(f"model {name!r} is incompatible: " + "; ".join(problems))


def _verified_checkpoint(models_dir: Path, name: str, meta: dict[str, Any]) -> bytes:
    """The checkpoint's bytes, read once and checked against the recorded sha256."""
    path = model_path(models_dir, name) / CHECKPOINT_FILE
    if path.is_symlink():
        raise ModelLoadError(f"model {name!r}: {CHECKPOINT_FILE} must not be a link")
    try:
        if path.stat().st_size > MAX_CHECKPOINT_BYTES:
            raise ModelLoadError(f"model {name!r}: checkpoint larger than the allowed size")
        blob = path.read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"model {name!r}: cannot read checkpoint: {exc}") from exc
    if hashlib.sha256(blob).hexdigest() != meta.get("sha256"):
        raise ModelLoadError(
            f"model {name!r}: checkpoint sha256 does not match metadata.json (corrupt or altered)"
        )
    return blob


def load_model(models_dir: Path, name: str) -> Trainable:
    """Load model `name` (any registered kind) after checking compatibility and its checksum."""
    meta = read_metadata(models_dir, name)
    if meta.get("name") != name:
        raise ModelLoadError(f"model {name!r}: metadata names {meta.get('name')!r}")
    check_compatible(meta)
    blob = _verified_checkpoint(models_dir, name, meta)
    try:
        return registry.get(meta["kind"]).load(blob, meta, name)
    except Exception as exc:  # any failure inside the library means "unreadable"
        raise ModelLoadError(f"model {name!r}: unreadable checkpoint: {exc}") from exc


def current_name(models_dir: Path) -> str | None:
    """The name in the `current` pointer, or None when no model is current."""
    try:
        text = (models_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return validate_name(text) if text else None


def set_current(models_dir: Path, name: str) -> None:
    """Point `current` at model `name` (atomic replace, so readers see old or new)."""
    check_compatible(read_metadata(models_dir, name))
    tmp = models_dir / f".{CURRENT_FILE}.tmp"
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, models_dir / CURRENT_FILE)


def load_current(models_dir: Path) -> Trainable | None:
    """The current model, or None when there is none; ModelLoadError when it cannot load."""
    name = current_name(models_dir)
    return None if name is None else load_model(models_dir, name)


@dataclass(frozen=True)
class ModelInfo:
    """One entry of the models directory."""

    name: str
    current: bool
    created_at: str | None
    metadata: dict[str, Any]
    problem: str | None  # why it cannot be loaded, None when it looks loadable


def list_models(models_dir: Path) -> list[ModelInfo]:
    """Every model directory, newest first (checks metadata, not the checkpoint's sha)."""
    if not models_dir.is_dir():
        return []
    current = current_name(models_dir)
    out = []
    for child in models_dir.iterdir():
        if child.name.startswith(".") or not child.is_dir() or not _NAME.match(child.name):
            continue
        meta: dict[str, Any] = {}
        problem = None
        try:
            meta = read_metadata(models_dir, child.name)
            check_compatible(meta)
        except ArgusError as exc:
            problem = exc.message
        out.append(
            ModelInfo(child.name, child.name == current, meta.get("created_at"), meta, problem)
        )
    return sorted(out, key=lambda m: (m.created_at or "", m.name), reverse=True)
