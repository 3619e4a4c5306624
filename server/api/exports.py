"""CSV exports over HTTP (being written; routes land with the exporters)."""

routes: list = []
