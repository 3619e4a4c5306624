"""Printouts: individual evacuation plans (個別避難計画) and field lists as A4 PDF.

context.py builds the documented context objects (docs/printing.md); render.py turns them
into PDF through Jinja2 and headless Chromium (engine.py); selection.py decides what a reader may print;
routes.py and cli.py are the HTTP and command-line doors.
"""
