"""``python -m codegen [--spec-dir spec] [--out aftership_async] [--api-md api.md]``: regenerate.

Writes the generated package under ``--out`` and the API reference to
``--api-md``: ``api.md`` (the repository root) when ``--out`` is the default
``aftership_async`` (the package ``aftership_async/_generated/``), else ``api.md``
inside ``--out``.

``python -m codegen diff OLD.yaml NEW.yaml [--json]`` reports what changed between two
specs of one API and which changes break SDK users (see :mod:`codegen.diff`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .build import build, check_unique_names
from .diff import main as diff_main
from .load import SpecError, load
from .render import render, render_api_md

SPEC_FILES = ("tracking.yaml", "shipping.yaml", "returns.yaml")
#: The package the generated one goes inside.
DEFAULT_OUT = Path("aftership_async")


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["diff"]:
        return diff_main(args_list[1:])
    parser = argparse.ArgumentParser(
        prog="python -m codegen",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--spec-dir", type=Path, default=Path("spec"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--api-md",
        type=Path,
        help="where to write the API reference (default: api.md for --out aftership_async, "
        "else OUT/api.md)",
    )
    parser.add_argument(
        "--spec", action="append", type=Path, help="render only these spec files (tests)"
    )
    args = parser.parse_args(args_list)
    paths = args.spec or [args.spec_dir / name for name in SPEC_FILES]
    try:
        loaded = [load(path) for path in paths]
        apis = [build(spec, f"spec/{spec.path.name}") for spec in loaded]
        check_unique_names(apis)
    except SpecError as exc:
        print(f"codegen: {exc}", file=sys.stderr)
        return 1
    documents = {api.name: spec.document for api, spec in zip(apis, loaded, strict=True)}
    written = render(apis, args.out, documents=documents)
    api_md = args.api_md
    if api_md is None:
        api_md = Path("api.md") if args.out == DEFAULT_OUT else args.out / "api.md"
    written.append(render_api_md(apis, api_md))
    print(f"codegen: wrote {len(written)} files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
