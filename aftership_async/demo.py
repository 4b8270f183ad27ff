"""``make demo``: bulk lookup of the bundled 1,000 numbers against the embedded fake server."""

from __future__ import annotations

import sys

from .cli import main, sample_path

if __name__ == "__main__":
    sys.exit(main(["track", str(sample_path()), "--output", "demo-results.jsonl", *sys.argv[1:]]))
