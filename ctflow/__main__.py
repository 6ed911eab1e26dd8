"""`python -m ctflow` entry point."""

from __future__ import annotations

from ctflow.cli import main

if __name__ == "__main__":
    main()
