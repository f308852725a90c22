"""Lecture materials: the resolution text and slides (PDF, DOCX, PPTX) trainers attach to a lecture.

``extract`` reads a file's kind and text (stages ``sniff``, ``pdf_text``, ``docx_text``, ``pptx_text``),
``attach`` stores and removes materials, ``documents`` puts their text into search. See docs/materials.md.
"""
