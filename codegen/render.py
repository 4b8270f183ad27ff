"""Render the intermediate model through the Jinja templates and write files.

Output is deterministic: files are written in a fixed order, with ``\\n``
line endings, then formatted by a pinned ``ruff format`` run with explicit
settings (so a temporary output directory formats exactly like the repo's).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import jinja2

from .ir import Api, InputConverter, Operation, Param, TypeRef

#: The generated package, written under ``--out`` (the ``aftership_async`` package).
PACKAGE = "_generated"
TEMPLATES = Path(__file__).parent / "templates"


def _docstring(text: str, indent: int, width: int = 96) -> str:
    """Wrap ``text`` for a docstring body indented by ``indent`` spaces."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        wrapped = textwrap.wrap(paragraph, width=width - indent, break_on_hyphens=False) or [""]
        lines.extend(wrapped)
        lines.append("")
    body = ("\n" + " " * indent).join(lines[:-1])
    return body


def _params(op: Operation) -> list[Param]:
    return list(op.path_params) + list(op.query_params)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["docstring"] = _docstring
    env.filters["pyrepr"] = repr
    env.globals["params_of"] = _params
    return env


def _imports_for(api: Api) -> dict[str, list[str]]:
    """Which enum names the models module needs, which models/enums the API module needs."""
    model_enum_names = sorted(
        {n for m in api.models for f in m.fields for n in f.type.names()}
        & {e.name for e in api.enums}
    )
    op_names: set[str] = set()
    for op in api.operations:
        op_names |= op.response.names()
        if op.pagination:
            op_names.add(op.pagination.item_type)
        if op.body:
            op_names |= op.body.names()
        for p in _params(op):
            op_names |= p.type.names()
    enum_names = {e.name for e in api.enums}
    return {
        "model_enums": model_enum_names,
        "api_models": sorted(op_names - enum_names),
        "api_enums": sorted(op_names & enum_names),
    }


def render(
    apis: list[Api],
    out_root: Path,
    *,
    documents: dict[str, dict[str, Any]] | None = None,
    format_code: bool = True,
) -> list[Path]:
    """Write the generated package under ``out_root``; return the files written.

    ``documents`` (API name -> spec document) are also written as JSON under
    ``specs/``, so code that needs the spec at run time (the fake server)
    reads it with the standard library instead of a YAML dependency.
    """
    env = _environment()
    package_dir = out_root / PACKAGE
    if package_dir.exists():
        shutil.rmtree(package_dir)
    package_dir.mkdir(parents=True)
    written: list[Path] = []

    def emit(relative: str, template: str, **context: object) -> None:
        target = package_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = env.get_template(template).render(**context)
        target.write_text(text, encoding="utf-8", newline="\n")
        written.append(target)

    sources = [api.spec_file for api in apis]
    for api in apis:
        imports = _imports_for(api)
        common = {
            "api": api,
            "imports": imports,
            "sources": [api.spec_file],
            "uses": _uses(api),
            "input_converters": _input_converters(api),
        }
        emit(f"{api.name}/enums.py", "enums.py.jinja", **common)
        emit(f"{api.name}/models.py", "models.py.jinja", **common)
        emit(f"{api.name}/api.py", "api.py.jinja", **common)
        emit(f"{api.name}/__init__.py", "api_init.py.jinja", **common)
    emit("_converter.py", "converter.py.jinja", apis=apis, sources=sources)
    bulk_apis = [api for api in apis if api.bulk]
    if len(bulk_apis) > 1:
        raise ValueError("only one API may declare x-aftership.bulk")
    bulk_api = bulk_apis[0] if bulk_apis else None
    if bulk_api is not None:
        emit("_bulk.py", "bulk.py.jinja", api=bulk_api, sources=[bulk_api.spec_file])
    emit("_client.py", "client.py.jinja", apis=apis, bulk_api=bulk_api, sources=sources)
    if any(api.webhooks for api in apis):
        emit("_webhooks.py", "webhooks.py.jinja", apis=apis, sources=sources)
    emit("__init__.py", "package_init.py.jinja", apis=apis, sources=sources)
    for name, document in sorted((documents or {}).items()):
        target = package_dir / "specs" / f"{name}.json"
        target.parent.mkdir(exist_ok=True)
        text = json.dumps(document, indent=1, ensure_ascii=False, default=str) + "\n"
        target.write_text(text, encoding="utf-8", newline="\n")
        written.append(target)
    (package_dir / "py.typed").write_text("", encoding="utf-8")
    written.append(package_dir / "py.typed")

    if format_code:
        _ruff_format(package_dir)
    return written


def _input_converters(api: Api) -> list[InputConverter]:
    """Every enum field's input converter, once each, in a stable order."""
    found = {
        c.name: c for m in api.models for f in m.fields if (c := f.input_converter) is not None
    }
    return [found[name] for name in sorted(found)]


def _uses(api: Api) -> dict[str, bool]:
    """Which optional imports each module needs, so the output has no unused ones."""
    types = [f.type for m in api.models for f in m.fields]
    param_types = [p.type for op in api.operations for p in _params(op)]
    return {
        "any": any(t.mentions("any") for t in types),
        "datetime": any(t.uses_datetime_module for t in types),
        "api_datetime": any(t.uses_datetime_module for t in param_types),
        "api_any": any(
            t.mentions("any")
            for op in api.operations
            for t in [op.response, *([op.body] if op.body else [])]
        ),
    }


def _cell(text: object) -> str:
    """Text for one Markdown table cell: no line breaks, ``|`` escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _anchor(name: str) -> str:
    return f"#model-{name.lower()}"


def _name_link(name: str, api: Api) -> str:
    """A link to a model or enum of ``api`` in the reference, or the name as code."""
    known = {m.name for m in api.models} | {e.name for e in api.enums}
    return f"[`{name}`]({_anchor(name)})" if name in known else f"`{name}`"


def _type_link(ref: TypeRef) -> str:
    if ref.kind in ("model", "enum"):
        assert ref.name
        return f"[`{ref.name}`]({_anchor(ref.name)})"
    return f"`{_cell(ref.annotation)}`"


def _uses_of(op: Operation) -> list[str]:
    """The models and enums an operation names directly (body, response, parameters)."""
    names = set(op.response.names())
    if op.body:
        names |= op.body.names()
    for p in _params(op):
        names |= p.type.names()
    return sorted(names)


def render_api_md(apis: list[Api], target: Path) -> Path:
    """Write the API reference (``api.md``): every method, its parameters and models."""
    env = _environment()
    env.filters["cell"] = _cell
    env.filters["type_link"] = _type_link
    env.filters["name_link"] = _name_link
    env.globals["uses_of"] = _uses_of
    text = env.get_template("api_md.jinja").render(
        apis=apis, sources=[api.spec_file for api in apis]
    )
    # The template's blocks leave runs of blank lines and trailing spaces: tidy them.
    text = "\n".join(line.rstrip() for line in text.splitlines())
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8", newline="\n")
    return target


def _ruff_format(directory: Path) -> None:
    settings = ["--isolated", "--line-length", "100", "--target-version", "py311"]
    subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--quiet", *settings, str(directory)],
        check=True,
    )
