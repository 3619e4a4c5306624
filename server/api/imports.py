"""CSV imports over HTTP (being written; routes land with the importers)."""

routes: list = []
