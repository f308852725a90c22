"""The per-lecture vocabulary that biases Whisper (asr/vocabulary.py) and its setting: pure, no model."""

from __future__ import annotations

from pathlib import Path

from diemcau.asr.pipeline import options_from_settings
from diemcau.asr.vocabulary import lecture_vocabulary, numbered_documents
from diemcau.settings import load_settings

GLOSSARY = ("Bộ Chính trị", "Ban Bí thư", "chi bộ", "tư tưởng Hồ Chí Minh")
RESOLUTION = (
    "Nghị quyết số 57-NQ/TW của Bộ Chính trị về chuyển đổi số quốc gia.\n"
    "Thực hiện Chỉ thị 05-CT/TW và Kết luận 21-KL/TW, các cấp ủy đẩy mạnh chuyển đổi số.\n"
    "Đồng chí Nguyễn Văn An, Bí thư Tỉnh ủy Hà Nam, báo cáo về chuyển đổi số của tỉnh.\n"
    "Mặt trận Tổ quốc Việt Nam phối hợp với Đoàn Thanh niên. Mọi đảng viên của chi bộ học tập."
)


def test_numbered_resolutions_come_first_as_written() -> None:
    """Are the numbered resolution, directive and conclusion found as written, and placed first?"""
    assert numbered_documents([RESOLUTION]) == ["Nghị quyết số 57-NQ/TW", "Chỉ thị 05-CT/TW", "Kết luận 21-KL/TW"]
    assert numbered_documents(["theo   nghị quyết  số 18 - NQ / TW và 35-NQ/TW"]) == [
        "nghị quyết số 18 - NQ / TW",
        "35-NQ/TW",
    ]
    terms = lecture_vocabulary(GLOSSARY, [RESOLUTION])
    assert terms[:3] == ("Nghị quyết số 57-NQ/TW", "Chỉ thị 05-CT/TW", "Kết luận 21-KL/TW")


def test_names_and_repeated_terms_are_taken_and_the_glossary_follows() -> None:
    """Capitalised multi-syllable names (extended by the glossary), a term the documents repeat, then the
    glossary (terms the documents use before the others), each once whatever its case?"""
    terms = lecture_vocabulary(GLOSSARY, [RESOLUTION])
    for name in ("Nguyễn Văn An", "Hà Nam", "Việt Nam", "Đoàn Thanh", "Bộ Chính trị"):
        assert name in terms
    assert "chuyển đổi số" in terms
    assert "Mặt trận" not in terms and "Ủy Hà" not in terms  # no run across a comma, none of one syllable
    assert not any(t.split()[0] in ("của", "và", "các") or t.split()[-1] in ("của", "và", "các") for t in terms)
    assert terms.index("chi bộ") < terms.index("Ban Bí thư")  # used in the documents, then the rest
    assert len({t.lower() for t in terms}) == len(terms)
    assert set(GLOSSARY) <= set(terms)


def test_no_documents_gives_the_glossary_and_hostile_text_is_harmless() -> None:
    """Without documents, the glossary as it is; empty, huge or odd text neither crashes nor floods the list."""
    assert lecture_vocabulary(GLOSSARY, []) == GLOSSARY
    assert lecture_vocabulary((), ["", "...", "\n\n", "\x00\u202e🎉"]) == ()
    flood = lecture_vocabulary((), ["đảng " * 20_000])
    assert set(" ".join(flood).split()) == {"đảng"} and len(flood) <= 3
    assert len(lecture_vocabulary((), ["Nghị quyết số 1-NQ/TW. " * 5_000])) <= 2


def test_the_setting_gives_whisper_the_lecture_vocabulary_only_when_on(tmp_path: Path) -> None:
    """Off by default (no hotwords); on, are the materials' resolution and the glossary in the hotwords?"""
    home = {"DIEMCAU_HOME": str(tmp_path)}
    assert options_from_settings(load_settings(home), [RESOLUTION]).decoding.hotwords is None
    on = load_settings(home | {"DIEMCAU_TRANSCRIPTION__DOCUMENT_VOCABULARY": "true"})
    hotwords = options_from_settings(on, [RESOLUTION]).decoding.hotwords
    assert hotwords is not None and hotwords.startswith("Nghị quyết số 57-NQ/TW, ")
    assert "Ban Chấp hành Trung ương" in hotwords  # the shipped glossary
    assert len(hotwords) <= 600
