"""Transcription of lectures with faster-whisper, one stage per module, in the order they run:

1. ``audio``      decode any media file to 16 kHz mono samples (faster-whisper's ``decode_audio``, PyAV);
2. ``vad``        find the speech with Silero VAD (faster-whisper's);
3. ``windows``    pack the speech into decoding windows of at most 30 s — the unit of checkpoints;
4. ``prompt``     the initial prompt from the trainers' glossary (``<courses folder>/glossary.txt``);
5. ``decoding``   transcribe each window (``language="vi"``, word timestamps), guarding against dropped audio;
6. ``normalise``  NFC text, collapsed whitespace, monotonic times inside the audio;
7. ``pipeline``   the stages above as one lazy stream of segments, resumable from a ``checkpoint``;
   the result goes to the transcript store (``adapters.transcript_store``).

``coverage`` checks that every stretch of speech the VAD found is covered by the output; ``scoring`` gives
WER/CER against a reference for tests and benchmarks.
"""
