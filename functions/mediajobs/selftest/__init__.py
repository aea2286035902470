"""A tiny built-in job kind that exercises the engine on its own (tests and the demo)."""
