"""``python -m codegen diff``: each kind of change, its classification, output and exit codes."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen.__main__ import main as codegen_main
from codegen.build import build
from codegen.diff import DiffResult, diff_specs, methods_of
from codegen.diff import main as diff_main
from codegen.ir import Api, Operation
from codegen.load import load

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
FIXTURES = ROOT / "tests/fixtures/specs"
BASE = FIXTURES / "diff/base.yaml"
TRACKING_2025_01 = FIXTURES / "tracking-2025-01.yaml"
TRACKING = ROOT / "spec/tracking.yaml"
PYTHON = ROOT / ".venv/bin/python"

Doc = dict[str, Any]


def _base() -> Doc:
    doc: Doc = yaml.safe_load(BASE.read_text())
    return doc


def _write(tmp_path: Path, name: str, doc: Doc) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _diff(tmp_path: Path, change: Callable[[Doc], None]) -> DiffResult:
    """Diff the base spec against a copy that ``change`` edited in place."""
    new = copy.deepcopy(_base())
    change(new)
    return diff_specs(_write(tmp_path, "old", _base()), _write(tmp_path, "new", new))


def _lines(result: DiffResult) -> set[str]:
    return {c.line() for c in result.changes}


def _breaking(message: str) -> str:
    return f"BREAKING  {message}"


def _fine(message: str) -> str:
    return f"          {message}"


def _schemas(doc: Doc) -> Doc:
    schemas: Doc = doc["components"]["schemas"]
    return schemas


def _op(doc: Doc, path: str, method: str = "get") -> Doc:
    op: Doc = doc["paths"][path][method]
    return op


def _query(name: str, schema: Doc, required: bool = False) -> Doc:
    return {"name": name, "in": "query", "required": required, "schema": schema}


# -- nothing, the version --------------------------------------------------------


def test_identical_specs_have_no_changes(tmp_path: Path) -> None:
    result = _diff(tmp_path, lambda doc: None)
    assert result.changes == ()
    assert result.exit_code == 0
    assert result.text().endswith("No changes.\n\n0 changes, 0 breaking\n")


def test_version_and_base_url_changes_are_reported_and_not_breaking(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        doc["x-aftership"]["version"] = "2026-07"
        doc["servers"][0]["url"] = "https://api.example.test/diff/2026-07"

    result = _diff(tmp_path, change)
    assert _lines(result) == {
        _fine("version 2025-01 -> 2026-07"),
        _fine(
            "base URL https://api.example.test/diff/2025-01 -> https://api.example.test/diff/2026-07"
        ),
    }
    assert (result.old_version, result.new_version) == ("2025-01", "2026-07")
    assert result.exit_code == 0


def test_envelope_change_is_breaking(tmp_path: Path) -> None:
    result = _diff(tmp_path, lambda doc: doc["x-aftership"].update(envelope="returns"))
    assert _lines(result) == {_breaking("envelope tracking -> returns")}


# -- operations ------------------------------------------------------------------


def test_removed_operation_is_breaking_and_added_one_is_not(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        item = doc["paths"].pop("/things/{id}")
        item["get"]["operationId"] = "get_thing"
        doc["paths"]["/thing/{id}"] = item

    result = _diff(tmp_path, change)
    assert _lines(result) == {
        _breaking("operation get_thing_by_id removed (GET /things/{id})"),
        _fine("operation get_thing added (GET /thing/{id})"),
    }
    assert result.exit_code == 1


def test_moved_operation_keeps_its_name_and_is_not_breaking(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        item = doc["paths"].pop("/things/{id}")
        item["patch"] = item.pop("get")
        item["patch"]["x-listed-method"] = "PUT"
        doc["paths"]["/v2/things/{id}"] = item

    result = _diff(tmp_path, change)
    assert _lines(result) == {
        _fine("operation get_thing_by_id: endpoint GET /things/{id} -> PATCH /v2/things/{id}"),
        _fine("operation get_thing_by_id: listed method - -> PUT"),
    }
    assert result.exit_code == 0


def test_operation_details_status_rate_limit_and_extensions(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        op = _op(doc, "/things", "post")
        op["responses"]["200"] = op["responses"].pop("201")
        op["x-rate-limit"] = 3
        op["x-beta"] = True

    result = _diff(tmp_path, change)
    assert _lines(result) == {
        _fine("operation create_thing: success status 201 -> 200"),
        _fine("operation create_thing: rate limit - -> 3/s"),
        _fine("operation create_thing: x-beta null -> true"),
    }


def test_request_body_added_removed_and_response_type_changed(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        create = _op(doc, "/things", "post")
        _op(doc, "/things/{id}")["requestBody"] = create.pop("requestBody")
        ok = _op(doc, "/things/all")["responses"]["200"]
        ok["content"]["application/json"]["schema"]["properties"]["data"] = {
            "$ref": "#/components/schemas/Thing"
        }

    result = _diff(tmp_path, change)
    assert _lines(result) == {
        _breaking("operation create_thing: request body removed (was CreateThingRequest)"),
        _breaking("operation get_thing_by_id: request body added (CreateThingRequest)"),
        _breaking("operation get_all_things: response type ThingPage -> Thing"),
    }


def test_removed_pagination_removes_the_iterator(tmp_path: Path) -> None:
    result = _diff(tmp_path, lambda doc: _op(doc, "/things").pop("x-pagination"))
    assert _lines(result) == {_breaking("operation get_things: iterator iter_things removed")}


# -- parameters ------------------------------------------------------------------


def test_parameter_changes(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        params = _op(doc, "/things")["parameters"]
        params[:] = [p for p in params if p["name"] != "active"]  # removed
        for param in params:
            if param["name"] == "limit":
                param["schema"] = {"type": "string"}  # type change
            if param["name"] == "color":
                param["required"] = True  # now required
        params.append(_query("keyword", {"type": "string"}))  # optional: fine
        params.append(_query("since", {"type": "string", "format": "date-time"}, required=True))

    result = _diff(tmp_path, change)
    assert _lines(result) == {
        _breaking("operation get_things: parameter active removed"),
        _breaking("operation get_things: parameter limit type int -> str"),
        _breaking("operation get_things: parameter color now required"),
        _fine("operation get_things: parameter keyword added (optional, str)"),
        _breaking(
            "operation get_things: parameter since added (required, datetime.datetime | str)"
        ),
        # The iterator takes the same filters, so nothing extra is reported for it.
    }
    assert result.exit_code == 1


def test_a_parameter_that_only_widens_is_not_breaking(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        for param in _op(doc, "/things")["parameters"]:
            if param["name"] == "cursor":
                param["x-comma-list"] = True  # str -> str | list[str] | tuple[str, ...]

    result = _diff(tmp_path, change)
    assert _lines(result) == {
        _fine(
            "operation get_things: parameter cursor type str -> str | list[str] | tuple[str, ...]"
        )
    }
    assert result.exit_code == 0
    # The other way round, callers passing lists break.
    old = copy.deepcopy(_base())
    change(old)
    back = diff_specs(_write(tmp_path, "wide", old), _write(tmp_path, "narrow", _base()))
    assert back.exit_code == 1


def test_parameter_no_longer_required_is_not_breaking(tmp_path: Path) -> None:
    def base_with_required(doc: Doc) -> None:
        _op(doc, "/things")["parameters"][1]["required"] = True

    old = copy.deepcopy(_base())
    base_with_required(old)
    result = diff_specs(_write(tmp_path, "old", old), _write(tmp_path, "new", _base()))
    assert _lines(result) == {_fine("operation get_things: parameter limit no longer required")}
    assert result.exit_code == 0


def test_path_parameters_are_positional(tmp_path: Path) -> None:
    def rename(doc: Doc) -> None:
        item = doc["paths"].pop("/things/{id}")
        item["get"]["parameters"][0]["name"] = "thing_id"
        doc["paths"]["/things/{thing_id}"] = item

    result = _diff(tmp_path, rename)
    assert _lines(result) == {
        _fine("operation get_thing_by_id: endpoint GET /things/{id} -> GET /things/{thing_id}"),
        _fine("operation get_thing_by_id: path parameter 1 renamed id -> thing_id"),
    }

    def add(doc: Doc) -> None:
        item = doc["paths"].pop("/things/{id}")
        item["get"]["parameters"].append(
            {"name": "part", "in": "path", "required": True, "schema": {"type": "string"}}
        )
        doc["paths"]["/things/{id}/{part}"] = item

    result = _diff(tmp_path, add)
    assert _breaking("operation get_thing_by_id: path parameters (id) -> (id, part)") in _lines(
        result
    )


def test_a_path_parameter_pattern_added_is_breaking_and_removed_is_not(tmp_path: Path) -> None:
    def constrain(doc: Doc) -> None:
        _op(doc, "/things/{id}")["parameters"][0]["schema"]["pattern"] = "^[a-z]{1,8}$"

    added = "operation get_thing_by_id: path parameter id pattern - -> ^[a-z]{1,8}$"
    assert _lines(_diff(tmp_path, constrain)) == {_breaking(added)}
    constrained = copy.deepcopy(_base())
    constrain(constrained)
    result = diff_specs(_write(tmp_path, "old", constrained), _write(tmp_path, "new", _base()))
    removed = "operation get_thing_by_id: path parameter id pattern ^[a-z]{1,8}$ -> -"
    assert _lines(result) == {_fine(removed)}


# -- response and request fields -------------------------------------------------


def test_response_field_changes(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        thing = _schemas(doc)["Thing"]
        props = thing["properties"]
        del props["zip"]  # removed: breaking
        props["postal_code"] = {"type": "string"}  # added: fine
        props["hash"] = {"type": "string"}  # added: fine
        props["name"] = {"type": ["string", "null"]}  # now nullable: breaking
        props["size"] = {"type": "number"}  # no longer nullable: fine for a response
        props["id"] = {"type": "integer"}  # type change: breaking
        thing["required"] = ["id", "color"]  # name optional: breaking; color required: fine

    result = _diff(tmp_path, change)
    assert _lines(result) == {
        _breaking("model Thing: field zip removed (was str | Unset)"),
        _fine("model Thing: field postal_code added (str | Unset)"),
        _fine("model Thing: field hash added (str | Unset)"),
        _breaking("model Thing: field name now nullable (responses may send null)"),
        _breaking("model Thing: field name no longer required (responses may omit it)"),
        _fine("model Thing: field size no longer nullable"),
        _breaking("model Thing: field id type str -> int"),
        _fine("model Thing: field color now required"),
    }


def test_request_field_changes(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        body = _schemas(doc)["CreateThingRequest"]
        props = body["properties"]
        props["slug"] = {"type": "string"}  # optional: fine
        props["code"] = {"type": "string"}  # required (below): breaking
        props["note"] = {"type": "string"}  # no longer accepts None: breaking
        body["required"] = ["weight", "code"]  # weight now required; name optional: fine

    result = _diff(tmp_path, change)
    assert _lines(result) == {
        _fine("model CreateThingRequest: field slug added (str | Unset)"),
        _breaking(
            "model CreateThingRequest: field code added as required in a request model (str)"
        ),
        _breaking(
            "model CreateThingRequest: field note no longer nullable (requests may not send null)"
        ),
        _breaking("model CreateThingRequest: field weight now required (requests must send it)"),
        _fine("model CreateThingRequest: field name no longer required"),
    }


def test_models_only_webhooks_use_count_as_responses(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        event = _schemas(doc)["ThingEvent"]
        event["required"] = []
        event["properties"]["event"] = {"type": ["string", "null"]}

    result = _diff(tmp_path, change)
    assert _lines(result) == {
        _breaking("model ThingEvent: field event no longer required (responses may omit it)"),
        _breaking("model ThingEvent: field event now nullable (responses may send null)"),
    }


def test_model_added_removed_and_renamed(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        schemas = _schemas(doc)
        schemas["ThingSize"] = schemas.pop("ThingDimensions")  # same fields: a rename
        schemas["Thing"]["properties"]["dimensions"] = {"$ref": "#/components/schemas/ThingSize"}
        del schemas["ThingEvent"]
        schemas["ThingOwner"] = {
            "type": "object",
            "description": "Who owns it.",
            "properties": {"name": {"type": "string"}},
        }

    result = _diff(tmp_path, change)
    # The field that now names ThingSize is not reported: the rename already is.
    assert _lines(result) == {
        _breaking("model ThingDimensions renamed to ThingSize"),
        _breaking("model ThingEvent removed"),
        _fine("model ThingOwner added"),
    }


def test_renamed_model_with_changed_fields_reports_both(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        schemas = _schemas(doc)
        size = schemas.pop("ThingDimensions")
        size["properties"]["weight"] = {"type": "number"}
        schemas["ThingSize"] = size
        schemas["Thing"]["properties"]["dimensions"] = {"$ref": "#/components/schemas/ThingSize"}

    result = _diff(tmp_path, change)
    assert _lines(result) == {
        _breaking("model ThingDimensions renamed to ThingSize"),
        _fine("model ThingSize: field weight added (float | Unset)"),
    }


def test_no_rename_when_two_removed_models_look_alike(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        schemas = _schemas(doc)
        schemas["OtherDimensions"] = copy.deepcopy(schemas["ThingDimensions"])
        schemas["Thing"]["properties"]["other"] = {"$ref": "#/components/schemas/OtherDimensions"}

    old = copy.deepcopy(_base())
    change(old)
    new = copy.deepcopy(old)
    schemas = _schemas(new)
    schemas["Size"] = schemas.pop("ThingDimensions")
    del schemas["OtherDimensions"]
    schemas["Thing"]["properties"]["dimensions"] = {"$ref": "#/components/schemas/Size"}
    schemas["Thing"]["properties"]["other"] = {"$ref": "#/components/schemas/Size"}
    result = diff_specs(_write(tmp_path, "old", old), _write(tmp_path, "new", new))
    assert _lines(result) == {
        _breaking("model ThingDimensions removed"),
        _breaking("model OtherDimensions removed"),
        _fine("model Size added"),
        _breaking("model Thing: field dimensions type ThingDimensions -> Size"),
        _breaking("model Thing: field other type OtherDimensions -> Size"),
    }


def test_descriptions_summaries_and_tags_are_not_reported(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        op = _op(doc, "/things")
        op["summary"] = "Something else."
        op["description"] = "Longer words."
        op["tags"] = ["Other"]
        _schemas(doc)["Thing"]["description"] = "Another description."
        _schemas(doc)["Thing"]["properties"]["id"]["description"] = "The id."

    assert _diff(tmp_path, change).changes == ()


# -- enums -----------------------------------------------------------------------


def test_enum_values(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        schemas = _schemas(doc)
        schemas["Color"]["enum"] = ["red", "blue"]  # a request enum: removal breaks callers
        schemas["Status"]["enum"] = ["new", "done", "lost"]  # response-only: addition is fine

    result = _diff(tmp_path, change)
    assert _lines(result) == {
        _breaking("enum Color: value 'green' removed (callers may send it)"),
        _fine("enum Color: value 'blue' added"),
        _fine("enum Status: value 'lost' added"),
    }

    result = _diff(tmp_path, lambda doc: _schemas(doc)["Status"].update(enum=["new"]))
    assert _lines(result) == {_breaking("enum Status: value 'done' removed (Status.DONE is gone)")}


def test_enum_added_removed_and_renamed(tmp_path: Path) -> None:
    def change(doc: Doc) -> None:
        schemas = _schemas(doc)
        schemas["ThingStatus"] = schemas.pop("Status")
        schemas["Thing"]["properties"]["status"] = {"$ref": "#/components/schemas/ThingStatus"}
        schemas["Shade"] = {"type": "string", "description": "A shade.", "enum": ["dark"]}
        schemas["Thing"]["properties"]["shade"] = {"$ref": "#/components/schemas/Shade"}

    result = _diff(tmp_path, change)
    assert _lines(result) == {
        _breaking("enum Status renamed to ThingStatus"),
        _fine("enum Shade added"),
        _fine("model Thing: field shade added (Shade | Unset)"),
    }

    def remove(doc: Doc) -> None:
        schemas = _schemas(doc)
        del schemas["Status"]
        schemas["Thing"]["properties"]["status"] = {"type": "string"}

    result = _diff(tmp_path, remove)
    assert _lines(result) == {
        _breaking("enum Status removed"),
        _breaking("model Thing: field status type Status -> str"),
    }


# -- listed-operation aliases (x-listed-as) --------------------------------------


def _alias_all_things(doc: Doc) -> None:
    """``get_all_things`` becomes an alias of ``GET /things``; ``get_things`` gets two."""
    del doc["paths"]["/things/all"]
    op = _op(doc, "/things")
    op["operationId"] = "list_things"
    op["x-listed-as"] = [
        {
            "operationId": "get_things",
            "listed": "GET /things",
            "summary": "List active things.",
            "fixed-query": {"active": True},
        },
        {
            "operationId": "get_all_things",
            "listed": "GET /things/all",
            "summary": "List every thing.",
            "fixed-query": {},
        },
    ]


def test_a_method_that_becomes_an_alias_is_moved_not_removed(tmp_path: Path) -> None:
    result = _diff(tmp_path, _alias_all_things)
    all_things = "operation get_all_things"
    assert _lines(result) == {
        _fine("operation list_things added (GET /things)"),
        _fine(
            f"{all_things}: endpoint GET /things/all -> "
            "GET /things, alias of list_things, listed as GET /things/all"
        ),
        _fine(f"{all_things}: parameter active added (optional, bool)"),
        _fine(f"{all_things}: parameter color added (optional, Color | str)"),
        _fine(f"{all_things}: parameter cursor added (optional, str)"),
        _fine(f"{all_things}: parameter limit added (optional, int)"),
        _fine(f"{all_things}: rate limit - -> 6/s"),
        _fine(
            "operation get_things: endpoint GET /things -> "
            "GET /things?active=true, alias of list_things, listed as GET /things"
        ),
        # The alias fixes `active`: callers that passed it get a TypeError.
        _breaking("operation get_things: parameter active removed"),
        # Aliases get no iterator: iter_things went with the operation's old name.
        _breaking("operation get_things: iterator iter_things removed"),
    }
    assert result.exit_code == 1
    assert result.as_json()["summary"] == {"changes": 10, "breaking": 2}


def test_removing_an_alias_removes_the_method(tmp_path: Path) -> None:
    old = copy.deepcopy(_base())
    _alias_all_things(old)
    new = copy.deepcopy(old)
    _op(new, "/things")["x-listed-as"].pop()
    result = diff_specs(_write(tmp_path, "old", old), _write(tmp_path, "new", new))
    assert _lines(result) == {
        _breaking(
            "operation get_all_things removed "
            "(GET /things, alias of list_things, listed as GET /things/all)"
        )
    }


class _WithoutAliases:
    """An operation as the intermediate model had it before ``Operation.aliases``."""

    def __init__(self, op: Operation) -> None:
        self._op = op

    def __getattr__(self, name: str) -> Any:
        if name == "aliases":
            raise AttributeError(name)
        return getattr(self._op, name)


def test_aliases_read_from_the_raw_spec_match_the_intermediate_model(tmp_path: Path) -> None:
    doc = copy.deepcopy(_base())
    _alias_all_things(doc)
    spec = load(_write(tmp_path, "aliased", doc))
    api = build(spec, "aliased.yaml")
    old_style = Api(
        **{
            **api.__dict__,
            "operations": tuple(_WithoutAliases(op) for op in api.operations),
        }
    )
    assert not hasattr(old_style.operations[0], "aliases")

    def summary(api: Api) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {
            name: (m.describe(), tuple(p.py_name for p in m.query_params))
            for name, m in methods_of(api, spec).items()
        }

    expected = summary(api)
    assert expected["get_things"] == (
        "GET /things?active=true, alias of list_things, listed as GET /things",
        ("cursor", "limit", "color"),
    )
    assert summary(old_style) == expected


@pytest.mark.parametrize(
    ("aliases", "message"),
    [
        ({"operationId": "x", "listed": "GET /x"}, "x-listed-as"),
        ([{"listed": "GET /x"}], "x-listed-as"),
        (
            [{"operationId": "x", "listed": "GET /x", "fixed-query": {"nope": 1}}],
            "unknown query parameters",
        ),
        ([{"operationId": "create_thing", "listed": "GET /x"}], "create_thing"),
    ],
)
def test_malformed_aliases_are_spec_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], aliases: Any, message: str
) -> None:
    new = copy.deepcopy(_base())
    _op(new, "/things")["x-listed-as"] = aliases
    code = diff_main([str(BASE), str(_write(tmp_path, "new", new))])
    assert code == 2
    assert message in capsys.readouterr().err


# -- output and exit codes -------------------------------------------------------


def _many_changes(doc: Doc) -> None:
    _alias_all_things(doc)
    doc["x-aftership"]["version"] = "2026-07"
    schemas = _schemas(doc)
    del schemas["Thing"]["properties"]["zip"]
    schemas["Thing"]["properties"]["postal_code"] = {"type": "string"}
    schemas["Color"]["enum"] = ["red", "green", "blue"]


def test_text_output_is_grouped_sorted_and_stable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = copy.deepcopy(_base())
    _many_changes(new)
    new_path = _write(tmp_path, "new", new)
    assert diff_main([str(BASE), str(new_path)]) == 1
    first = capsys.readouterr().out
    assert diff_main([str(BASE), str(new_path)]) == 1
    assert capsys.readouterr().out == first

    lines = first.splitlines()
    assert lines[0] == f"API diff: 2025-01 ({BASE}) -> 2026-07 ({new_path})"
    headers = [line for line in lines if line in ("Api", "Operations", "Models", "Enums")]
    assert headers == ["Api", "Operations", "Models", "Enums"]
    assert lines[-1] == "14 changes, 3 breaking"
    # Within a group, lines are sorted by what they are about.
    section = lines[lines.index("Models") + 1 : lines.index("Enums") - 1]
    assert section == [
        _fine("model Thing: field postal_code added (str | Unset)"),
        _breaking("model Thing: field zip removed (was str | Unset)"),
    ]
    assert _breaking("operation get_things: parameter active removed") in lines
    assert _fine("version 2025-01 -> 2026-07") in lines


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = copy.deepcopy(_base())
    _many_changes(new)
    new_path = _write(tmp_path, "new", new)
    assert diff_main([str(BASE), str(new_path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["api"] == "diff"
    assert data["old"] == {"path": str(BASE), "version": "2025-01"}
    assert data["new"] == {"path": str(new_path), "version": "2026-07"}
    assert data["summary"] == {"changes": 14, "breaking": 3}
    assert {
        "group": "models",
        "subject": "Thing",
        "item": "zip",
        "breaking": True,
        "message": "model Thing: field zip removed (was str | Unset)",
    } in data["changes"]
    assert [c["message"] for c in data["changes"] if c["breaking"]] == [
        "operation get_things: iterator iter_things removed",
        "operation get_things: parameter active removed",
        "model Thing: field zip removed (was str | Unset)",
    ]


def test_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    same = _write(tmp_path, "same", _base())
    assert diff_main([str(BASE), str(same)]) == 0
    fine = copy.deepcopy(_base())
    fine["x-aftership"]["version"] = "2026-07"
    assert diff_main([str(BASE), str(_write(tmp_path, "fine", fine))]) == 0
    broken = copy.deepcopy(_base())
    del broken["paths"]["/things/all"]
    assert diff_main([str(BASE), str(_write(tmp_path, "broken", broken))]) == 1
    capsys.readouterr()

    assert diff_main([str(BASE), str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read spec" in capsys.readouterr().err
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("openapi: [unclosed\n")
    assert diff_main([str(BASE), str(bad_yaml)]) == 2
    invalid = copy.deepcopy(_base())
    invalid["openapi"] = "9.9.9"
    assert diff_main([str(BASE), str(_write(tmp_path, "invalid", invalid))]) == 2
    assert "invalid OpenAPI" in capsys.readouterr().err
    other = copy.deepcopy(_base())
    other["x-aftership"]["api"] = "other"
    assert diff_main([str(BASE), str(_write(tmp_path, "other", other))]) == 2
    assert "describes API diff" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        diff_main([str(BASE)])
    assert usage.value.code == 2


def test_codegen_main_dispatches_diff(capsys: pytest.CaptureFixture[str]) -> None:
    assert codegen_main(["diff", str(BASE), str(BASE)]) == 0
    assert capsys.readouterr().out.endswith("0 changes, 0 breaking\n")


@pytest.mark.slow
def test_cli_runs_as_a_subprocess(tmp_path: Path) -> None:
    new = copy.deepcopy(_base())
    _many_changes(new)
    new_path = _write(tmp_path, "new", new)
    result = subprocess.run(
        [str(PYTHON), "-m", "codegen", "diff", str(BASE), str(new_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert _breaking("model Thing: field zip removed (was str | Unset)") in result.stdout
    assert result.stdout.splitlines()[-1] == "14 changes, 3 breaking"

    usage = subprocess.run(
        [str(PYTHON), "-m", "codegen", "diff", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert usage.returncode == 0 and "--json" in usage.stdout


# -- the real pair: Tracking 2025-01 -> spec/tracking.yaml -----------------------


def _tracking_version() -> str:
    doc = yaml.safe_load(TRACKING.read_text())
    return str(doc["x-aftership"]["version"])


def test_tracking_2025_01_to_current_spec() -> None:
    result = diff_specs(TRACKING_2025_01, TRACKING)
    if _tracking_version() == "2025-01":
        # spec/tracking.yaml has not moved to 2026-07 yet: it is the fixture.
        assert result.changes == ()
        assert result.exit_code == 0
        return

    lines = _lines(result)
    assert (result.old_version, result.new_version) == ("2025-01", "2026-07")
    assert _fine("version 2025-01 -> 2026-07") in lines
    removed = [
        "tracking_postal_code",
        "tracking_state",
        "tracking_origin_country_region",
        "tracking_destination_country_region",
        "last_mile_tracking_supported",
    ]
    by_item = {(c.group, c.subject, c.item): c for c in result.changes}
    for name in removed:
        change = by_item[("models", "Tracking", name)]
        assert change.breaking and f"field {name} removed" in change.message, change
    for name in ("shipment_dimensions", "proof_of_delivery"):
        change = by_item[("models", "Tracking", name)]
        assert not change.breaking and f"field {name} added" in change.message, change
    zip_change = by_item[("models", "Checkpoint", "zip")]
    assert zip_change.breaking and "field zip removed" in zip_change.message
    for name in ("postal_code", "hash"):
        change = by_item[("models", "Checkpoint", name)]
        assert not change.breaking and f"field {name} added" in change.message, change

    added_ops = {
        c.subject for c in result.changes if c.group == "operations" and " added (" in c.message
    }
    assert "predict" in added_ops
    assert any("courier_connection" in name for name in added_ops), added_ops
    assert all(
        not c.breaking
        for c in result.changes
        if c.group == "operations" and c.subject in added_ops and c.item == ""
    )
    # get_all_couriers is now an alias of GET /couriers: moved, not removed.
    assert not any(
        c.subject == "get_all_couriers" and "removed (" in c.message for c in result.changes
    )
    moved = by_item[("operations", "get_all_couriers", "endpoint")]
    assert not moved.breaking
    assert "endpoint GET /couriers/all -> GET /couriers, alias of " in moved.message
    assert result.exit_code == 1
    assert len(result.breaking) >= len(removed) + 1
