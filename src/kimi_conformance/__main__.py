"""`python -m kimi_conformance` runs the command-line interface."""

from __future__ import annotations

from kimi_conformance.cli import main

if __name__ == "__main__":
    main()
