"""`tsunagu serve` (and the end of `tsunagu demo`): migrate the database, then run the web server.

A module of its own so that both commands can use it without importing each other: server/cli.py
registers `demo` from server/demo_city, which serves once the demo city is loaded
(tests/test_import_cycles.py keeps server/ free of import cycles).
"""

from __future__ import annotations


def cmd_serve(args, settings) -> int:
    """Migrate, then serve on `args.host`/`args.port` (or the settings') until stopped."""
    # Imported here: every `tsunagu` command builds the parser, and only these two serve.
    import uvicorn

    from .app import create_app
    from .db import make_engine
    from .migrate import upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    app = create_app(settings=settings, engine=engine)
    # Live streams (the HQ map's /api/hq/stream) never finish by themselves: on shutdown give
    # them a few seconds, then close them (browsers reconnect and resume where they were).
    uvicorn.run(app, host=args.host or settings.TSUNAGU_HOST, port=args.port or settings.TSUNAGU_PORT,
                log_level=settings.TSUNAGU_LOG_LEVEL.lower(), access_log=False, timeout_graceful_shutdown=5)
    return 0
