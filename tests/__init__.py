"""Test suite. `SHARED` is the project's shared/ folder beside the repository (reference files)."""

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
