"""``make demo``: bulk lookup of the bundled 1,000 numbers against the embedded fake server.

``--fake`` says so explicitly (the CLI never falls back to the fake on its
own); ``--overwrite`` because ``demo-results.jsonl`` is the demo's own file,
rewritten by every run.
"""

from __future__ import annotations

import sys

from .cli import main, sample_path

DEMO_OUTPUT = "demo-results.jsonl"

if __name__ == "__main__":
    argv = ["track", str(sample_path()), "--output", DEMO_OUTPUT, "--fake", "--overwrite"]
    sys.exit(main([*argv, *sys.argv[1:]]))
