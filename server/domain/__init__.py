"""Plain domain functions: no HTTP, no sessions unless passed in."""
