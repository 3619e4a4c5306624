"""Thin HTTP handlers. Each module exports `routes`; `server.app` mounts them."""
