"""Renderers of the official report: XLSX (openpyxl) and PDF (fpdf2 with a Vietnamese-capable font)."""
