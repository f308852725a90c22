"""Fixtures for the transcription tests: the real Whisper base model (loaded once) and espeak-ng clips.

Import the fixtures into a test module (``from tests.asr_fixtures import whisper_dir, ...``). The model is
assembled once per test session into the session's base temp folder and loaded once per process.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from diemcau.adapters.whisper_model import LoadedModel, load_whisper_model
from diemcau.settings import Settings, load_settings
from tests.data_dirs import data_dir_environ
from tests.speech import Utterance, silence, synthesize

SENTENCES = (
    "Thưa các đồng chí, hôm nay chúng ta học tập nghị quyết của Ban Chấp hành Trung ương.",
    "Mỗi chi bộ cần tổ chức cho đảng viên học tập nghiêm túc.",
    "Bí thư chi bộ theo dõi và đôn đốc đảng viên hoàn thành bài thu hoạch.",
    "Cấp ủy báo cáo kết quả học tập lên cấp trên.",
)
CLIP_TEXT = " ".join(SENTENCES[:2])
CLOSING = "Xin cảm ơn các đồng chí."


def asr_environ(tmp_path: Path, model_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for settings on a fresh data directory that use the session's model folder."""
    return data_dir_environ(tmp_path, DIEMCAU_TRANSCRIPTION__MODEL=str(model_dir), **extra)


@pytest.fixture(scope="session")
def whisper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled base model, assembled and checksum-verified once (``ensure_whisper_model``)."""
    home = tmp_path_factory.getbasetemp() / "asr-models"
    settings = load_settings({"DIEMCAU_HOME": str(home)})
    from diemcau.adapters.whisper_model import ensure_whisper_model

    return ensure_whisper_model(settings)


@pytest.fixture(scope="session")
def whisper(whisper_dir: Path) -> LoadedModel:
    """The loaded model (CPU int8 here), shared by every test in the process."""
    return load_whisper_model(load_settings({"DIEMCAU_TRANSCRIPTION__MODEL": str(whisper_dir)}))


@pytest.fixture
def asr_settings(tmp_path: Path, whisper_dir: Path) -> Settings:
    """Settings on a fresh data directory, using the session's model (no glossary: courses/ is empty)."""
    return load_settings(asr_environ(tmp_path, whisper_dir))


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated audio: ``speech`` (two sentences, ~10 s, m4a), ``silence`` (5 s), ``corrupt``, ``lecture``
    (four sentences with pauses, ~23 s, for window-by-window work), ``short_lecture`` (three, ~14 s)."""
    folder = tmp_path_factory.mktemp("clips")
    speech = [Utterance(text, pause_after=0.8) for text in SENTENCES[:2]]
    lecture = [Utterance(text, "vi", 160, pause_after=2.5) for text in SENTENCES]
    short = [Utterance(text, "vi", 170, pause_after=2.0) for text in (SENTENCES[1], SENTENCES[3], CLOSING)]
    corrupt = folder / "corrupt.m4a"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypM4A " + os.urandom(4096))
    return {
        "speech": synthesize(speech, folder / "speech.m4a"),
        "silence": silence(folder / "silence.wav", 5.0),
        "corrupt": corrupt,
        "lecture": synthesize(lecture, folder / "lecture.wav"),
        "short_lecture": synthesize(short, folder / "short_lecture.wav"),
    }
