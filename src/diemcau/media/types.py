"""The typed values that cross stage boundaries. All frozen; each converts to and from a JSON checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Self


class _Checkpoint:
    """Round-trips a dataclass through the JSON a checkpoint stores (paths as strings)."""

    def to_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}  # type: ignore[call-overload]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        kinds = {f.name: f.type for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: (Path(v) if kinds[k] in ("Path", Path) else v) for k, v in data.items() if k in kinds})


@dataclass(frozen=True)
class Limits(_Checkpoint):
    """What a source may weigh and last (from ``settings.media``)."""

    max_duration_seconds: float
    max_size_bytes: int


@dataclass(frozen=True)
class FetchedSource(_Checkpoint):
    """The source's bytes, local and hashed: what every later stage reads."""

    path: Path
    sha256: str
    size_bytes: int
    title: str = ""


@dataclass(frozen=True)
class MediaInfo(_Checkpoint):
    """What ffprobe found in a source that passed validation."""

    duration_seconds: float
    has_video: bool
    width: int = 0
    height: int = 0
    audio_codec: str = ""
    video_codec: str = ""
    container: str = ""


@dataclass(frozen=True)
class RenditionSpec(_Checkpoint):
    """One rendition to encode: ``name`` is its folder (``audio``, ``v240`` ...)."""

    name: str
    label: str  # what members see: "Chỉ nghe", "240p" ...
    height: int  # 0: audio only
    video_kbps: int
    audio_kbps: int
    segment_seconds: int


@dataclass(frozen=True)
class Rendition(_Checkpoint):
    """An encoded rendition: its playlist (relative to the lecture's media folder) and measured weight."""

    name: str
    label: str
    playlist: str
    bandwidth: int  # peak bits per second, as the master playlist announces it
    average_bandwidth: int
    width: int
    height: int
    codecs: str
    bytes: int
