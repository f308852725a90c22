"""The shapes of the lecture routes: what a trainer sends to publish, and a lecture with its media links."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from diemcau.core.course import COURSE_ID_PATTERN


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class LectureIn(BaseModel):
    """Publish from a URL (any site yt-dlp supports, a direct media link, an HLS playlist)."""

    model_config = ConfigDict(extra="forbid")

    course_id: str = Field(pattern=COURSE_ID_PATTERN.pattern)
    title: str = Field(min_length=1, max_length=255)
    url: str = Field(pattern=r"^https?://", max_length=2000)
    speaker: str = Field("", max_length=255)
    resolution: str = Field("", max_length=255, description="The resolution (nghị quyết) the lecture covers.")
    transcribe: bool = True


class RenditionOut(_Out):
    name: str = Field(description="audio, v240, v360, v720")
    label: str = Field(description="What members see: 'Chỉ nghe', '240p' ...")
    url: str = Field(description="The rendition's media playlist.")
    bandwidth: int = Field(description="Peak bits per second.")
    average_bandwidth: int
    height: int = Field(description="0 for audio only.")
    codecs: str = Field(description="The RFC 6381 codecs: 'mp4a.40.2' (AAC), 'opus', 'avc1.…,mp4a.40.2'.")
    bytes_per_hour: int = Field(description="What an hour of it costs a member's data plan.")


class MediaOut(_Out):
    master: str = Field(description="Master playlist (video ladder, then audio-only).")
    audio_playlist: str = Field(description="Audio-only media playlist: load it directly for 'Chỉ nghe' in hls.js.")
    opus_playlist: str | None = Field(
        None, description="Audio-only in Opus (fMP4): for 'Chỉ nghe' where the browser plays Opus; absent before it."
    )
    audio_file: str = Field(description="The m4a download (Tải về).")
    poster: str
    has_video: bool
    renditions: list[RenditionOut]


class LectureOut(_Out):
    id: str
    course_id: str
    title: str
    speaker: str
    resolution: str
    status: str = Field(description="processing, ready or failed")
    status_label: str = Field(description="The status in Vietnamese.")
    duration_seconds: float | None
    stage: str = Field(description="The job's current stage (staff only).")
    progress: float = Field(description="The job's progress, percent (staff only).")
    error: str = Field(description="Why it failed, in Vietnamese (staff only).")
    transcript: str = Field(description="skipped, pending, queued (or being transcribed), ready or failed")
    media: MediaOut | None = Field(description="Links, once ready.")
