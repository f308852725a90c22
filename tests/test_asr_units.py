"""Unit tests of the transcription stages that need no model: windows, glossary prompt, guards, text, checkpoints."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from diemcau.adapters.whisper_model import ModelError, assemble_model, check_model_dir, ensure_whisper_model
from diemcau.asr.checkpoint import Checkpoint, fingerprint
from diemcau.asr.coverage import covered_seconds, drops_speech
from diemcau.asr.decoding import DecodingOptions, WindowResult, until_speech_ends
from diemcau.asr.normalise import normalise_segments, normalise_text
from diemcau.asr.prompt import glossary_prompt, is_prompt_echo, load_glossary
from diemcau.asr.scoring import error_rates, normalise_for_scoring, number_words
from diemcau.asr.vad import SpeechSpan
from diemcau.asr.windows import Window, plan_windows
from diemcau.core.transcript import Segment, Word
from diemcau.settings import Settings, SettingsError, load_settings

REPO = Path(__file__).resolve().parents[1]


def spans(*pairs: tuple[float, float]) -> tuple[SpeechSpan, ...]:
    return tuple(SpeechSpan(a, b) for a, b in pairs)


def test_windows_pack_speech_up_to_the_limit() -> None:
    """Are consecutive spans packed into windows no longer than the limit, in order, covering all speech?"""
    windows = plan_windows(spans((0, 8), (9, 17), (18, 27), (40, 45)), 30.0)
    assert [(w.start, w.end) for w in windows] == [(0, 27), (40, 45)]
    assert [w.index for w in windows] == [0, 1]
    assert windows[0].speech_seconds == pytest.approx(25)


def test_a_span_longer_than_a_window_is_cut_not_truncated() -> None:
    """Is a 70 s stretch of speech cut into pieces that all fit, with nothing lost between them?"""
    windows = plan_windows(spans((5, 75)), 30.0)
    assert all(w.duration <= 30.0 for w in windows)
    assert windows[0].start == 5 and windows[-1].end == 75
    assert sum(w.speech_seconds for w in windows) == pytest.approx(70)


def test_no_speech_gives_no_windows() -> None:
    """Does silence (no spans) give no windows at all?"""
    assert plan_windows((), 30.0) == ()


def test_glossary_file_of_the_repository_steers_party_terms() -> None:
    """Does the shipped glossary hold the Party terms, and does the prompt keep them (comments dropped)?"""
    terms = load_glossary(REPO / "src" / "diemcau" / "asr" / "glossary.txt")
    for term in (
        "Nghị quyết",
        "Ban Chấp hành Trung ương",
        "Bộ Chính trị",
        "Đại hội đại biểu toàn quốc",
        "chi bộ",
        "đảng viên",
        "cấp ủy",
        "quán triệt",
    ):
        assert term in terms
    prompt = glossary_prompt(terms)
    assert prompt is not None and prompt.startswith("Nghị quyết, Ban Chấp hành Trung ương") and "#" not in prompt


def test_the_courses_folders_own_glossary_wins_over_the_shipped_one(tmp_path: Path) -> None:
    """With the glossary prompt on, is the shipped list used until the courses folder (in the data directory by
    default) has a glossary of its own, and that one then?"""
    from diemcau.asr.pipeline import options_from_settings

    settings = load_settings({"DIEMCAU_HOME": str(tmp_path / "var"), "DIEMCAU_TRANSCRIPTION__GLOSSARY_PROMPT": "1"})
    assert options_from_settings(settings).decoding.initial_prompt.startswith("Nghị quyết, Ban Chấp hành")
    settings.courses_dir.mkdir(parents=True)
    (settings.courses_dir / "glossary.txt").write_text("# riêng\nThạch Hà\n", encoding="utf-8")
    assert options_from_settings(settings).decoding.initial_prompt == "Thạch Hà."


def test_glossary_prompt_is_cut_at_a_term_boundary(tmp_path: Path) -> None:
    """Is a long glossary cut to fit Whisper's prompt, between terms, and is a missing file no prompt?"""
    assert glossary_prompt(["chi bộ"] * 500, max_chars=50).count("chi bộ") == 6
    assert glossary_prompt(load_glossary(tmp_path / "missing.txt")) is None


def test_prompt_echo_is_recognised_but_a_normal_sentence_is_not() -> None:
    """Is a window that copied the glossary caught, while speech that uses two of its terms is left alone?"""
    prompt = "Nghị quyết, Ban Chấp hành Trung ương, Bộ Chính trị, Đại hội đại biểu toàn quốc, chi bộ, đảng viên."
    assert is_prompt_echo(" Nghị quyết, Ban Chấp hành Trung ương, Bộ Chính trị, Đại hội đại biểu toàn quốc.", prompt)
    assert not is_prompt_echo("Hôm nay chi bộ học tập nghị quyết của Ban Chấp hành Trung ương.", prompt)
    assert not is_prompt_echo("anything", None)


def seg(start: float, end: float, text: str = "chữ") -> Segment:
    return Segment(0, start, end, text)


def test_coverage_flags_a_window_that_skipped_its_first_sentence() -> None:
    """Is a decoding that left the first 6 s of speech out flagged, while VAD padding alone is not?"""
    speech = spans((0, 5), (6.4, 10.4), (11.7, 16.5), (17.9, 21.4))
    skipped = (seg(6.5, 10.0), seg(11.8, 16.1), seg(18.0, 20.9))
    full = (seg(0.4, 4.7), *skipped)
    assert drops_speech(speech, skipped)
    assert not drops_speech(speech, full)
    assert drops_speech(speech, (seg(0, 21, "  "),))  # segments without text cover nothing
    assert covered_seconds(spans((0, 10)), (seg(2, 4), seg(3, 6))) == pytest.approx(4)


def test_normalise_composes_text_and_keeps_times_monotonic_inside_the_audio() -> None:
    """Are tone marks composed (NFC), spaces collapsed, empty segments dropped and times clamped?"""
    decomposed = "đa\u0309ng vie\u0302n"  # 'đảng viên' with combining marks
    raw = [
        Segment(0, -0.5, 2.0, f"  {decomposed}   học\ttập ", (Word(-0.5, 0.4, " đa\u0309ng"), Word(0.3, 9.0, " viên"))),
        Segment(0, 3.0, 2.5, " "),
        Segment(0, 1.5, 12.0, "nghị quyết"),
    ]
    out = normalise_segments(raw, duration=10.0)
    assert [s.index for s in out] == [0, 1]
    assert out[0].text == "đảng viên học tập" and out[0].text == normalise_text(out[0].text)
    assert out[0].words[0] == Word(0.0, 0.4, " đảng", 1.0) and out[0].words[1].end <= out[0].end
    assert out[1].start >= out[0].start and out[1].end == 10.0


def test_scoring_spells_numbers_and_ignores_case_and_punctuation() -> None:
    """Does '13' score as 'mười ba', and are case and punctuation ignored?"""
    assert (
        number_words(13) == "mười ba" and number_words(21) == "hai mươi mốt" and number_words(105) == "một trăm lẻ năm"
    )
    assert (
        normalise_for_scoring("Đại hội lần thứ 14, năm 2025!")
        == "đại hội lần thứ mười bốn năm hai nghìn không trăm hai mươi lăm"
    )
    assert error_rates("Đại hội lần thứ mười bốn", "đại hội, lần thứ 14.").cer == 0.0


def window_result(index: int) -> WindowResult:
    window = Window(index, index * 10.0, index * 10.0 + 8, spans((index * 10.0, index * 10.0 + 8)))
    return WindowResult(
        window,
        (Segment(0, window.start, window.end, f"câu {index}", (Word(window.start, 1, " câu"),)),),
        ("coverage_retry",),
        1.25,
        attempt=2,
    )


def test_checkpoint_round_trips_windows_and_survives_a_torn_line(tmp_path: Path) -> None:
    """Are recorded windows read back whole, a line torn by a crash skipped, and later records still kept?"""
    checkpoint = Checkpoint(tmp_path, fingerprint({"audio": "abc"}))
    checkpoint.start()
    checkpoint.record(window_result(0))
    with checkpoint.path.open("a", encoding="utf-8") as handle:
        handle.write('{"window": 1, "start": 10')  # kill -9 in the middle of a write
    assert set(checkpoint.load()) == {0}
    checkpoint.record(window_result(2))
    done = Checkpoint(tmp_path, checkpoint.digest).load()
    assert set(done) == {0, 2} and done[0] == window_result(0)


def test_checkpoint_for_other_work_is_discarded(tmp_path: Path) -> None:
    """Is a checkpoint made for other audio or settings ignored and replaced, never mixed in?"""
    old = Checkpoint(tmp_path, fingerprint({"audio": "abc"}))
    old.start()
    old.record(window_result(0))
    new = Checkpoint(tmp_path, fingerprint({"audio": "other"}))
    assert new.load() == {}
    new.start()
    assert new.load() == {} and json.loads(new.path.read_text().splitlines()[0])["fingerprint"] == new.digest


def test_decoding_defaults_are_deterministic_and_never_skip_windows() -> None:
    """Are the defaults Vietnamese, temperature 0 without fallback, no conditioning, and no no-speech skipping?"""
    kwargs = DecodingOptions().whisper_kwargs()
    assert kwargs["language"] == "vi" and kwargs["temperature"] == 0.0 and kwargs["word_timestamps"] is True
    assert kwargs["condition_on_previous_text"] is False and kwargs["no_repeat_ngram_size"] == 3
    assert kwargs["no_speech_threshold"] is None


def test_transcription_settings_are_validated() -> None:
    """Does a wrong transcription setting stop start-up with the key named?"""
    assert load_settings({}).transcription.compute_type == "auto"
    with pytest.raises(SettingsError, match="transcription.batch_size"):
        load_settings({"DIEMCAU_TRANSCRIPTION__BATCH_SIZE": "-1"})
    with pytest.raises(SettingsError, match="transcription.device"):
        load_settings({"DIEMCAU_TRANSCRIPTION__DEVICE": "tpu"})


def test_windows_are_batched_on_a_gpu_unless_the_setting_says_otherwise() -> None:
    """With batch_size 0 (the default, auto), are windows decoded together (BatchedInferencePipeline) on CUDA and
    one at a time on CPU, where batching gains nothing, while a set batch_size is kept on either?"""
    from diemcau.asr.pipeline import GPU_BATCH, batch_size_for, options_from_settings

    assert load_settings({}).transcription.batch_size == 0
    assert (batch_size_for(0, "cuda"), batch_size_for(0, "cpu")) == (GPU_BATCH, 1) and GPU_BATCH > 1
    assert (batch_size_for(4, "cuda"), batch_size_for(4, "cpu")) == (4, 4)
    assert options_from_settings(load_settings({}), device="cuda").batch_size == GPU_BATCH
    assert options_from_settings(load_settings({})).batch_size == 1


def test_model_parts_that_do_not_add_up_are_refused(tmp_path: Path) -> None:
    """Is a model whose parts fail the checksum refused with a message, leaving no model folder behind?"""
    parts = [tmp_path / "a.part1", tmp_path / "b.part2"]
    parts[0].write_bytes(b"abc")
    parts[1].write_bytes(b"def")
    extra = tmp_path / "config.json"
    extra.write_text("{}")
    good = hashlib.sha256(b"abcdef").hexdigest()
    with pytest.raises(ModelError, match="do not add up"):
        assemble_model(parts, [extra], tmp_path / "models" / "m", "0" * 64, 6)
    assert not (tmp_path / "models").exists()
    folder = assemble_model(parts, [extra], tmp_path / "models" / "m", good, 6)
    assert (folder / "model.bin").read_bytes() == b"abcdef" and (folder / "config.json").is_file()


def test_a_missing_model_folder_is_named_not_fetched(settings: Settings, tmp_path: Path) -> None:
    """Does a configured model folder that does not exist fail with the setting named (and no hub access)?"""
    import os

    with pytest.raises(ModelError, match="transcription.model"):
        ensure_whisper_model(settings, str(tmp_path / "large-v3"))
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no model.bin"):
        check_model_dir(tmp_path / "empty")


class Seg:
    """A faster-whisper segment, as far as ``until_speech_ends`` reads it."""

    def __init__(self, end: float) -> None:
        self.end = end


def test_decoding_stops_once_the_speech_is_covered() -> None:
    """Is the lazy decoder left alone once a segment reaches the end of the speech (no wasted tail pass),
    but followed further when the output stops short?"""

    def passes():  # type: ignore[no-untyped-def]
        yield Seg(4.0)
        yield Seg(9.6)
        raise AssertionError("a second pass over the padding was started")

    assert [s.end for s in until_speech_ends(passes(), speech_end=10.0)] == [4.0, 9.6]
    assert [s.end for s in until_speech_ends(iter([Seg(3.0), Seg(5.0), Seg(10.0)]), 12.0)] == [3.0, 5.0, 10.0]


def _segment(text: str, probability: float | None) -> Segment:
    words = (
        ()
        if probability is None
        else tuple(Word(float(i), float(i) + 0.5, " " + w, probability) for i, w in enumerate(text.split()))
    )
    return Segment(0, 0.0, 3.0, text, words)


def test_channel_promotions_are_always_dropped_and_sign_offs_only_when_unsure() -> None:
    """Are Whisper's invented YouTube sign-offs dropped (promotion always, a thank-you only when the model was
    unsure), while the lecture's own words stay?"""
    from diemcau.asr.hallucination import drop_hallucinations

    promotion = _segment("Hãy subscribe cho kênh Ghiền Mì Gõ để không bỏ lỡ những video hấp dẫn", 0.9)
    unsure_thanks = _segment("Cảm ơn các bạn đã theo dõi", 0.3)
    sure_thanks = _segment("Cảm ơn các bạn đã theo dõi", 0.9)
    lecture = _segment("Nghị quyết Đại hội đại biểu toàn quốc lần thứ mười ba của Đảng", 0.4)
    kept, dropped = drop_hallucinations([promotion, lecture, unsure_thanks, sure_thanks])
    assert (kept, dropped) == ((lecture, sure_thanks), 2)
    assert drop_hallucinations([_segment("Hẹn gặp lại các bạn trong những video tiếp theo", None)]) == ((), 1)


def test_the_decoding_guard_notes_each_dropped_hallucination() -> None:
    """Does the window guard drop an invented sign-off and say so in the window's notes (nothing silent)?"""
    from diemcau.asr.decoding import HALLUCINATION, guard
    from diemcau.asr.vad import SpeechSpan
    from diemcau.asr.windows import Window

    window = Window(0, 0.0, 6.0, (SpeechSpan(0.0, 3.0),))
    speech = Segment(0, 0.0, 3.0, "Chi bộ học tập nghị quyết", ())
    invented = Segment(1, 3.0, 6.0, "Hãy subscribe cho kênh để không bỏ lỡ những video hấp dẫn", ())
    # model and audio are only used to decode again, which covered speech without a prompt never needs
    kept, notes = guard(None, None, window, DecodingOptions(), (speech, invented))  # type: ignore[arg-type]
    assert (kept, notes) == ((speech,), (HALLUCINATION,))


def test_bytes_whisper_left_unfinished_never_reach_the_transcript() -> None:
    """Whisper writes UTF-8 a byte-level token at a time; when base emits a Vietnamese letter's lead byte with no
    continuation, the tokenizer decodes it as U+FFFD (the demo lecture's "qu�t"). Does the ASR boundary drop
    the broken letter from the segment and its words, keep the rest, and leave no empty word behind?"""
    from faster_whisper.transcribe import Segment as WhisperSegment
    from faster_whisper.transcribe import Word as WhisperWord

    from diemcau.asr.decoding import to_segments

    broken = b" qu\xe1t".decode("utf-8", errors="replace")  # what the tokenizer returns for those bytes
    assert "\ufffd" in broken
    words = [
        WhisperWord(0.0, 0.4, " quán", 0.9),
        WhisperWord(0.4, 0.8, broken, 0.2),
        WhisperWord(0.8, 0.9, " \ufffd", 0.1),
        WhisperWord(0.9, 1.2, " sốt", 0.8),
    ]
    raw = WhisperSegment(0, 0, 0.0, 1.2, " quán" + broken + " \ufffd sốt", [], -0.5, 1.2, 0.1, words, 0.0)
    (segment,) = normalise_segments(to_segments([raw], offset=10.0), duration=60.0)
    assert segment.text == "quán qut sốt"
    assert [w.text for w in segment.words] == [" quán", " qut", " sốt"]
    assert (segment.start, segment.end) == (10.0, 11.2)
