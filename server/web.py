"""The one Jinja2 templates object for the server's HTML pages (ページ).

Every page handler (app.py's index, login and error pages, /conflicts, /hq, /print) renders
through `templates`, so there is one loader, one set of globals and one place to add a folder.
It imports nothing else of the server: any module may use it without an import cycle
(tests/test_import_cycles.py). The printouts (PDF, server/printing/render.py) have their own
Jinja environment on purpose: they are not web pages and must not see the web templates.
"""

from __future__ import annotations

from pathlib import Path

from starlette.templating import Jinja2Templates

HERE = Path(__file__).resolve().parent
# server/templates holds base.html and the app's pages; the /print page lives beside the printouts.
FOLDERS = (HERE / "templates", HERE / "printing" / "templates" / "web")

templates = Jinja2Templates(directory=[str(folder) for folder in FOLDERS])
