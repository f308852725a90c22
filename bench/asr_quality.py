"""Transcription quality: WER and CER (jiwer, after spelling out numbers, lower case, no punctuation) of our
pipeline on the espeak-ng benchmark lecture, with and without the glossary prompt (src/diemcau/asr/glossary.txt),
and of a plain ``WhisperModel.transcribe`` call as the baseline.

Synthetic speech is ONLY A REGRESSION SIGNAL: Whisper base hears espeak-ng's robotic Vietnamese far worse
than a human lecturer, so these rates say whether a change helps or hurts, not how well the product does
(published WER on real Vietnamese, FLEURS: small ≈22 %, large-v3 ≈8 %).
Run: ``.venv/bin/python bench/asr_quality.py [--passes 1]``.

``--documents`` runs the report of issue 18 instead (bench/asr_documents.py): a 5.1-minute lecture, half of it
read from a sample resolution, transcribed by the pipeline as configured (baseline) and the rates split
between the sentences read from the document and the others. ``--cache DIR`` keeps each configuration's
segments in DIR and reuses them on the next run (delete the folder after changing the pipeline).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import astuple, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asr_documents import DocumentLecture, build_document_lecture, document_text, split_rates  # noqa: E402
from asr_lecture import build_lecture  # noqa: E402

from diemcau.adapters.whisper_model import load_whisper_model  # noqa: E402
from diemcau.asr.doc_align import AlignOptions, align_to_documents  # noqa: E402
from diemcau.asr.pipeline import PipelineOptions, options_from_settings, transcribe_audio  # noqa: E402
from diemcau.asr.prompt import DEFAULT_GLOSSARY, glossary_prompt, load_glossary  # noqa: E402
from diemcau.asr.scoring import error_rates  # noqa: E402
from diemcau.asr.vocabulary import lecture_vocabulary  # noqa: E402
from diemcau.core.transcript import Segment, Word  # noqa: E402
from diemcau.settings import Settings, load_settings  # noqa: E402

SYNTHETIC = "synthetic speech: a regression signal only, not the product's accuracy on real lectures"


def _decoded(
    loaded: object, lecture: DocumentLecture, name: str, options: PipelineOptions, cache: Path | None
) -> tuple[tuple[Segment, ...], float]:
    """The segments of one configuration (from ``cache`` when there) and the CPU seconds they took."""
    stored = cache / f"{name}.json" if cache else None
    if stored and stored.is_file():
        data = json.loads(stored.read_text(encoding="utf-8"))
        segments = tuple(
            Segment(n, s, e, t, tuple(Word(*w) for w in words)) for n, (s, e, t, words) in enumerate(data["segments"])
        )
        return segments, data["cpu_seconds"]
    started = time.process_time()
    transcript = transcribe_audio(loaded.model, loaded.describe(), lecture.audio, "bench", options)  # type: ignore[attr-defined]
    seconds = time.process_time() - started
    if stored:
        stored.parent.mkdir(parents=True, exist_ok=True)
        segments = [[s.start, s.end, s.text, [list(astuple(w)) for w in s.words]] for s in transcript.segments]
        stored.write_text(json.dumps({"segments": segments, "cpu_seconds": seconds}, ensure_ascii=False), "utf-8")
    return transcript.segments, seconds


def documents_report(settings: Settings, home: Path, cache: Path | None) -> None:
    """WER and CER split between in-document and other sentences, per configuration (issue 18)."""
    lecture = build_document_lecture(home)
    loaded = load_whisper_model(settings)
    baseline = options_from_settings(settings)
    in_doc = sum(s.in_document for s in lecture.sentences)
    print(
        f"lecture: {lecture.duration:.0f} s, {len(lecture.sentences)} sentences ({in_doc} from the document); {SYNTHETIC}"
    )
    print(
        f"{'configuration':28} {'WER doc':>8} {'CER doc':>8} {'WER other':>9} {'CER other':>9} {'WER all':>8} {'CPU s':>6}"
    )
    reference: dict[str, tuple[float, float]] = {}

    def show(name: str, segments: Sequence[Segment], seconds: float) -> None:
        rates = split_rates(lecture.sentences, " ".join(s.text for s in segments))
        reference.setdefault("document", rates["document"])
        reference.setdefault("other", rates["other"])
        ratio = lambda group, k: rates[group][k] / reference[group][k] if reference[group][k] else float("nan")  # noqa: E731
        print(
            f"{name:28} {rates['document'][0]:8.3f} {rates['document'][1]:8.3f} {rates['other'][0]:9.3f} "
            f"{rates['other'][1]:9.3f} {rates['all'][0]:8.3f} {seconds:6.0f}   vs baseline: doc WER ×{ratio('document', 0):.2f}, "
            f"other WER ×{ratio('other', 0):.2f}",
            flush=True,
        )

    segments, seconds = _decoded(loaded, lecture, "baseline", baseline, cache)
    show("baseline (pipeline)", segments, seconds)
    show("alignment alone", align_to_documents(segments, [document_text()]).segments, seconds)
    vocabulary = lecture_vocabulary(load_glossary(DEFAULT_GLOSSARY), [document_text()])
    biased = replace(baseline, decoding=replace(baseline.decoding, hotwords=glossary_prompt(vocabulary)))
    print(f"hotwords: {biased.decoding.hotwords}", flush=True)
    heard, seconds = _decoded(loaded, lecture, "vocabulary", biased, cache)
    show("vocabulary biasing alone", heard, seconds)
    show("both", align_to_documents(heard, [document_text()]).segments, seconds)
    short = replace(baseline, decoding=replace(baseline.decoding, hotwords=glossary_prompt(vocabulary, 160)))
    print(f"short hotwords: {short.decoding.hotwords}", flush=True)
    heard, seconds = _decoded(loaded, lecture, "vocabulary-short", short, cache)
    show("short vocabulary alone", heard, seconds)
    show("short vocabulary + alignment", align_to_documents(heard, [document_text()]).segments, seconds)
    threshold_sweep(lecture, segments)


def threshold_sweep(lecture: DocumentLecture, heard: Sequence[Segment]) -> None:
    """WER in-document / other after alignment, on Whisper's transcript and on a perfect one (the reference, two
    sentences a segment): what each threshold gains, and what it breaks when the lecturer's own
    near-paraphrases are heard exactly (by a strong model: sure of its words, or, the worst case, unsure)."""
    texts = [s.text for s in lecture.sentences]
    perfect = tuple(
        Segment(n, 10.0 * n, 10.0 * n + 9, " ".join(texts[2 * n : 2 * n + 2])) for n in range(len(texts) // 2)
    )
    unsure = tuple(replace(s, words=(Word(s.start, s.end, s.text, 0.5),)) for s in perfect)
    defaults = AlignOptions()

    def rates_after(segments: Sequence[Segment], options: AlignOptions) -> tuple[str, float]:
        aligned = align_to_documents(segments, [document_text()], options)
        rates = split_rates(lecture.sentences, " ".join(s.text for s in aligned.segments))
        lowest = min((m.score for m in aligned.replaced), default=float("nan"))
        return f"{rates['document'][0]:5.3f} / {rates['other'][0]:5.3f}", lowest

    print("\nreplace_at, no unsure rule   WER doc / other: Whisper base  perfect transcript   lowest score replaced")
    for at in (60, 65, 68, 70, 72, 75, 80, 85):
        options = AlignOptions(replace_at=at, suggest_at=min(at, defaults.suggest_at), unsure_replace_at=at)
        (base, low_base), (sure, low_sure) = rates_after(heard, options), rates_after(perfect, options)
        print(f"  {at:3}{'':42}{base}     {sure}        {low_base:5.1f} / {low_sure:5.1f}", flush=True)
    print(
        f"unsure_replace_at (replace_at {defaults.replace_at:.0f})  WER doc / other: Whisper base  perfect, sure  "
        "perfect, unsure (p 0.5)"
    )
    for at in (60, 62, 65, 68, 70, 72):
        options = replace(defaults, unsure_replace_at=at)
        cells = [rates_after(segments, options)[0] for segments in (heard, perfect, unsure)]
        print(f"  {at:3}{'':42}" + "     ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=2, help="times each paragraph is read (2 → ~6 min)")
    parser.add_argument("--documents", action="store_true", help="the in-document / other report of issue 18")
    parser.add_argument("--cache", type=Path, help="with --documents: keep and reuse decoded segments here")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="asr-quality-"))
    if args.documents:
        documents_report(load_settings({"DIEMCAU_HOME": str(home / "var")}), home, args.cache)
        return
    # no courses folder of its own: the prompt is the shipped glossary (src/diemcau/asr/glossary.txt)
    settings = load_settings({"DIEMCAU_HOME": str(home / "var"), "DIEMCAU_TRANSCRIPTION__GLOSSARY_PROMPT": "true"})
    lecture = build_lecture(home, args.passes)
    loaded = load_whisper_model(settings)
    with_prompt = options_from_settings(settings)
    runs = {
        "pipeline, no prompt": replace(with_prompt, decoding=replace(with_prompt.decoding, initial_prompt=None)),
        "pipeline, glossary prompt": with_prompt,
    }
    print(
        f"lecture: {lecture.duration:.0f} s, {len(lecture.reference.split())} words; synthetic speech: "
        "a regression signal only"
    )
    print(f"{'configuration':36} {'WER':>6} {'CER':>6} {'CPU RTF':>7}  guards fired", flush=True)

    def show(name: str, text: str, seconds: float, notes: list[str]) -> None:
        rates = error_rates(lecture.reference, text)
        fired = ", ".join(f"{code}×{notes.count(code)}" for code in sorted(set(notes))) or "-"
        print(f"{name:36} {rates.wer:6.3f} {rates.cer:6.3f} {seconds / lecture.duration:7.3f}  {fired}", flush=True)

    started = time.process_time()
    segments, _ = loaded.model.transcribe(str(lecture.audio), **PipelineOptions().decoding.whisper_kwargs())
    show("baseline: WhisperModel.transcribe", " ".join(s.text for s in segments), time.process_time() - started, [])
    for name, options in runs.items():
        started = time.process_time()
        transcript = transcribe_audio(loaded.model, loaded.describe(), lecture.audio, "bench", options)
        show(name, transcript.text, time.process_time() - started, [n["code"] for n in transcript.settings["notes"]])


if __name__ == "__main__":
    main()
