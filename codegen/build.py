"""Turn a loaded spec into the intermediate model (:mod:`codegen.ir`).

All naming and typing decisions live here: Python names for JSON names,
types for schemas, which fields are required or nullable, enum member names.
"""

from __future__ import annotations

import keyword
import re
from typing import Any, ClassVar

from .ir import (
    TEMPORAL_KINDS,
    Alias,
    Api,
    BulkBinding,
    EnumDef,
    EnumMember,
    ErrorRules,
    Field,
    Model,
    Operation,
    Pagination,
    Param,
    RetrySafety,
    TypeKind,
    TypeRef,
    Webhooks,
)
from .load import LoadedSpec, SpecError

_SCHEMA_REF = "#/components/schemas/"
_HTTP_METHODS = ("get", "put", "post", "delete", "patch")
_RESERVED_PARAMS = {"self", "body", "options"}


def snake_name(name: str) -> str:
    """A Python identifier for a JSON name: ``cancel-labels`` -> ``cancel_labels``."""
    text = re.sub(r"[^0-9A-Za-z_]", "_", name)
    if not text or text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text):
        text += "_"
    return text


def pascal_name(*parts: str) -> str:
    words: list[str] = []
    for part in parts:
        for word in re.split(r"[^0-9A-Za-z]+", part):
            if word:
                words.append(word[0].upper() + word[1:])
    return "".join(words)


def enum_member_name(value: str) -> str:
    text = re.sub(r"[^0-9A-Za-z]+", "_", value).strip("_").upper()
    if not text:
        return "EMPTY"
    if text[0].isdigit():
        text = "VALUE_" + text
    return text


def clean_text(text: Any) -> str:
    return " ".join(str(text or "").split()) if text is not None else ""


class _Builder:
    def __init__(self, spec: LoadedSpec, spec_file: str) -> None:
        self.spec = spec
        self.spec_file = spec_file
        self.doc = spec.document
        self.schemas: dict[str, Any] = self.doc.get("components", {}).get("schemas", {})
        self.models: dict[str, Model] = {}
        self.enums: dict[str, EnumDef] = {}
        self._in_progress: set[str] = set()

    def fail(self, where: str, message: str) -> SpecError:
        return SpecError(f"{self.spec_file}: {where}: {message}")

    # -- schemas -----------------------------------------------------------

    def type_of(self, schema: Any, context: str) -> tuple[TypeRef, bool]:
        """The type of a schema and whether it admits null."""
        if not isinstance(schema, dict):
            raise self.fail(context, "schema must be a mapping")
        if "$ref" in schema:
            return self.named_type(schema["$ref"], context), False
        if "oneOf" in schema or "anyOf" in schema:
            options: list[Any] = schema.get("oneOf") or schema.get("anyOf") or []
            non_null = [o for o in options if o.get("type") != "null"]
            nullable = len(non_null) != len(options)
            if len(non_null) > 1 and all(_temporal_format(o) for o in non_null):
                return self.temporal_type(context, non_null), nullable
            if len(non_null) != 1 or len(options) != 2:
                raise self.fail(
                    context,
                    "oneOf/anyOf is only allowed as [X, {type: null}] or as date and time "
                    "strings (format " + ", ".join(_TEMPORAL_FORMATS) + ") with an optional null",
                )
            inner, _ = self.type_of(non_null[0], context)
            return inner, True
        if "allOf" in schema:
            raise self.fail(context, "allOf is not supported")
        raw_type = schema.get("type")
        nullable = False
        if isinstance(raw_type, list):
            types = [t for t in raw_type if t != "null"]
            nullable = len(types) != len(raw_type)
            if len(types) != 1:
                raise self.fail(context, f"mixed types {raw_type} are not supported")
            raw_type = types[0]
        if "enum" in schema:
            return self.enum_type(context, schema), nullable or None in schema["enum"]
        if raw_type == "string":
            if schema.get("format") in _TEMPORAL_FORMATS:
                return self.temporal_type(context, [schema]), nullable
            return TypeRef("str"), nullable
        if raw_type == "integer":
            return TypeRef("int"), nullable
        if raw_type == "number":
            return TypeRef("float"), nullable
        if raw_type == "boolean":
            return TypeRef("bool"), nullable
        if raw_type == "array":
            item, item_nullable = self.type_of(schema.get("items", {}), context + "Item")
            if item_nullable:
                raise self.fail(context, "nullable array items are not supported")
            return TypeRef("list", item=item), nullable
        if raw_type == "object" or (raw_type is None and "properties" in schema):
            if schema.get("properties"):
                return self.model_type(context, schema), nullable
            extra = schema.get("additionalProperties", True)
            if isinstance(extra, dict) and extra:
                value, _ = self.type_of(extra, context + "Value")
                return TypeRef("dict", item=value), nullable
            return TypeRef("dict", item=TypeRef("any")), nullable
        if raw_type is None:
            return TypeRef("any"), True
        raise self.fail(context, f"unsupported type {raw_type!r}")

    def temporal_type(self, context: str, options: list[Any]) -> TypeRef:
        """The Python type of one or more date/time string forms (an ``anyOf``'s branches).

        ``date-time`` and ``date-time-local`` are both a ``datetime`` (aware or naive, as
        sent), ``date`` a ``date``, ``time-local`` and ``time`` a ``time``; several kinds
        make a union, written in ``TEMPORAL_KINDS`` order.
        """
        kinds = set()
        for option in options:
            fmt = option["format"]
            if fmt in LOCAL_PATTERNS and option.get("pattern") != LOCAL_PATTERNS[fmt]:
                raise self.fail(
                    context,
                    f"format {fmt} needs pattern {LOCAL_PATTERNS[fmt]!r} (JSON Schema "
                    "validators do not know the format; the pattern is what they check)",
                )
            kinds.add(_TEMPORAL_FORMATS[fmt])
        forms = tuple(k for k in TEMPORAL_KINDS if k in kinds)
        if len(forms) == 1:
            return TypeRef(forms[0])
        return TypeRef("temporal", forms=forms)

    def named_type(self, ref: str, context: str) -> TypeRef:
        if not ref.startswith(_SCHEMA_REF):
            raise self.fail(context, f"$ref {ref} must point into components/schemas")
        name = ref[len(_SCHEMA_REF) :]
        if name not in self.schemas:
            raise self.fail(context, f"unknown schema {name}")
        schema = self.schemas[name]
        if "enum" in schema:
            return self.enum_type(name, schema)
        if schema.get("properties"):
            return self.model_type(name, schema)
        # A named alias of a scalar or container: use its type directly.
        inner, _ = self.type_of(schema, name)
        return inner

    def enum_type(self, name: str, schema: dict[str, Any]) -> TypeRef:
        if name not in self.enums:
            values = [v for v in schema["enum"] if v is not None]
            if not all(isinstance(v, str) for v in values):
                raise self.fail(name, "only string enums are supported")
            members: list[EnumMember] = []
            used: set[str] = set()
            for value in values:
                member = enum_member_name(value)
                while member in used:
                    member += "_"
                used.add(member)
                members.append(EnumMember(member, value))
            self.enums[name] = EnumDef(
                name=name,
                description=clean_text(schema.get("description")) or f"{name} values.",
                members=tuple(members),
            )
        return TypeRef("enum", name=name)

    def model_type(self, name: str, schema: dict[str, Any]) -> TypeRef:
        if name in self.models or name in self._in_progress:
            return TypeRef("model", name=name)
        self._in_progress.add(name)
        required = set(schema.get("required", []))
        fields: list[Field] = []
        used: set[str] = set()
        for json_name, prop in schema["properties"].items():
            prop_type, nullable = self.type_of(prop, pascal_name(name, json_name))
            py_name = snake_name(json_name)
            if py_name in used:
                raise self.fail(name, f"two properties map to the Python name {py_name}")
            used.add(py_name)
            fields.append(
                Field(
                    json_name=json_name,
                    py_name=py_name,
                    type=prop_type,
                    required=json_name in required,
                    nullable=nullable,
                    description=clean_text(prop.get("description")),
                    sensitive=bool(prop.get("x-sensitive", False)),
                )
            )
        unknown = required - set(schema["properties"])
        if unknown:
            raise self.fail(name, f"required names unknown properties {sorted(unknown)}")
        self.models[name] = Model(
            name=name,
            description=clean_text(schema.get("description")) or f"The {name} object.",
            fields=tuple(fields),
        )
        self._in_progress.discard(name)
        return TypeRef("model", name=name)

    # -- operations --------------------------------------------------------

    def operation(self, path: str, method: str, op: dict[str, Any], shared: list[Any]) -> Operation:
        op_id = op.get("operationId")
        where = f"{method.upper()} {path}"
        if not isinstance(op_id, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", op_id):
            raise self.fail(where, "operationId must be a snake_case Python name")
        path_params: list[Param] = []
        query_params: list[Param] = []
        # Path-item parameters apply to every operation unless it redefines them.
        merged: dict[tuple[str, str], Any] = {}
        for raw in [*shared, *op.get("parameters", [])]:
            resolved = self.spec.resolve(raw)
            merged[(resolved.get("name"), resolved.get("in"))] = resolved
        for param in merged.values():
            location = param.get("in")
            if location not in ("path", "query"):
                continue  # header parameters are the transport's business
            name = param["name"]
            py_name = snake_name(name)
            if py_name in _RESERVED_PARAMS:
                raise self.fail(where, f"parameter name {name!r} is reserved")
            ptype, _ = self.type_of(param.get("schema", {}), pascal_name(op_id, name))
            comma_list = param.get("x-comma-list", False)
            if comma_list not in (True, False):
                raise self.fail(where, f"{name}: x-comma-list must be true or false")
            if comma_list and (location != "query" or ptype.kind != "str"):
                raise self.fail(where, f"{name}: x-comma-list is for string query parameters")
            pattern = None
            wire_format = None
            declared = self.spec.resolve(param.get("schema", {})).get("pattern")
            if location == "query" and ptype.kind == "datetime" and declared is not None:
                # Without a pattern (older specs) a datetime goes out as isoformat() gives it.
                wire_format = _QUERY_DATE_TIME_PATTERNS.get(declared)
                if wire_format is None:
                    raise self.fail(
                        where,
                        f"{name}: a date-time query parameter's pattern must be one the client "
                        f"can write: {sorted(_QUERY_DATE_TIME_PATTERNS)} (spec/CONVENTIONS.md)",
                    )
            elif declared is not None:
                if location != "path" or ptype.kind != "str":
                    raise self.fail(where, f"{name}: pattern is for string path parameters")
                try:
                    re.compile(declared)
                except (re.error, TypeError) as exc:
                    raise self.fail(where, f"{name}: invalid pattern: {exc}") from None
                pattern = declared
            target = path_params if location == "path" else query_params
            target.append(
                Param(
                    json_name=name,
                    py_name=py_name,
                    location=location,
                    type=ptype,
                    required=bool(param.get("required", location == "path")),
                    description=clean_text(param.get("description"))
                    + (_WIRE_FORMAT_NOTES[wire_format] if wire_format else ""),
                    comma_list=comma_list,
                    pattern=pattern,
                    wire_format=wire_format,
                )
            )
        template_names = re.findall(r"{([^}]+)}", path)
        if sorted(template_names) != sorted(p.json_name for p in path_params):
            raise self.fail(where, "path parameters do not match the path template")
        path_params.sort(key=lambda p: template_names.index(p.json_name))

        body: TypeRef | None = None
        if "requestBody" in op:
            request_body = self.spec.resolve(op["requestBody"])
            schema = request_body.get("content", {}).get("application/json", {}).get("schema")
            if not isinstance(schema, dict) or "$ref" not in schema:
                raise self.fail(where, "requestBody schema must be a $ref to a named model")
            body = self.named_type(schema["$ref"], where)
            if body.kind not in ("model", "dict"):
                raise self.fail(where, "requestBody must be an object")

        successes = [
            (int(code), self.spec.resolve(resp))
            for code, resp in op.get("responses", {}).items()
            if str(code).startswith("2")
        ]
        if len(successes) != 1:
            raise self.fail(where, "exactly one 2xx response is required")
        status, response = successes[0]
        envelope = response.get("content", {}).get("application/json", {}).get("schema", {})
        envelope = self.spec.resolve(envelope)
        data_schema = envelope.get("properties", {}).get("data")
        if not isinstance(data_schema, dict) or "$ref" not in data_schema:
            raise self.fail(where, "the success envelope's data must be a $ref")
        response_type = self.named_type(data_schema["$ref"], where)

        pagination = None
        if "x-pagination" in op:
            raw_pagination = op["x-pagination"]
            if raw_pagination.get("style") not in ("cursor", "next_token", "page"):
                raise self.fail(where, "x-pagination.style must be cursor, next_token or page")
            items_name = raw_pagination.get("items")
            page_model = self.models.get(response_type.name or "")
            items_field = next(
                (f for f in (page_model.fields if page_model else ()) if f.json_name == items_name),
                None,
            )
            if items_field is None or items_field.type.kind != "list" or not items_field.type.item:
                raise self.fail(where, f"x-pagination.items {items_name!r} is not a list in data")
            pagination = self.pagination(
                where, raw_pagination, query_params, response_type, items_field, op_id
            )

        aliases = tuple(self.alias(where, raw, query_params) for raw in op.get("x-listed-as", []))
        safety = self.retry_safety(where, method.upper(), op.get("x-aftership"), body)
        tags = op.get("tags") or ["Default"]
        rate_limit = op.get("x-rate-limit")
        return Operation(
            operation_id=op_id,
            method=method.upper(),
            path=path,
            listed_method=op.get("x-listed-method"),
            tag=str(tags[0]),
            summary=clean_text(op.get("summary")) or op_id.replace("_", " ").capitalize(),
            description=clean_text(op.get("description")),
            path_params=tuple(path_params),
            query_params=tuple(query_params),
            body=body,
            response=response_type,
            success_status=status,
            rate_limit=float(rate_limit) if rate_limit is not None else None,
            pagination=pagination,
            safety=safety,
            aliases=aliases,
        )

    #: The names each paging style needs besides ``style`` and ``items``, then the optional ones.
    _PAGING_KEYS: ClassVar[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
        "cursor": (("request", "next"), ("has-more",)),
        "next_token": (("request", "next"), ()),
        "page": (("request", "has-more"), ()),
    }

    def pagination(
        self,
        where: str,
        raw: dict[str, Any],
        query_params: list[Param],
        response_type: TypeRef,
        items_field: Field,
        op_id: str,
    ) -> Pagination:
        """An operation's ``x-pagination`` block: the names the paging engine reads and sends."""
        style = raw["style"]
        needed, optional = self._PAGING_KEYS[style]
        unknown = set(raw) - {"style", "items", *needed, *optional}
        if unknown:
            raise self.fail(where, f"x-pagination ({style}): unknown keys {sorted(unknown)}")
        missing = [key for key in needed if not isinstance(raw.get(key), str)]
        if missing:
            raise self.fail(where, f"x-pagination ({style}) needs {missing}")
        by_json = {p.json_name: p for p in query_params}
        request = by_json.get(raw["request"])
        if request is None:
            name = raw["request"]
            raise self.fail(where, f"x-pagination.request {name!r} is not a query parameter")

        def path(key: str) -> tuple[str, ...]:
            """``pagination.next_cursor`` as Python attribute names, checked through the models."""
            if key not in raw:
                return ()
            names: list[str] = []
            current = response_type
            for part in str(raw[key]).split("."):
                model = self.models.get(current.name or "") if current.kind == "model" else None
                fields = model.fields if model else ()
                field = next((f for f in fields if f.json_name == part), None)
                if field is None:
                    raise self.fail(where, f"x-pagination.{key}: no field {part!r} on the way")
                names.append(field.py_name)
                current = field.type
            return tuple(names)

        assert items_field.type.item is not None
        return Pagination(
            style=style,
            items=items_field.py_name,
            item_type=items_field.type.item.annotation,
            method="iter_" + op_id.removeprefix("get_"),
            token_param=request.json_name,
            request=request.py_name,
            next=path("next"),
            has_more=path("has-more"),
        )

    def retry_safety(self, where: str, method: str, raw: Any, body: TypeRef | None) -> RetrySafety:
        """An operation's ``x-aftership`` retry declaration, checked (spec/CONVENTIONS.md)."""
        if not isinstance(raw, dict):
            raise self.fail(where, "x-aftership with retry and retry-reason is required")
        unknown = set(raw) - {"retry", "retry-reason", "natural-key", "outcome-check"}
        if unknown:
            raise self.fail(where, f"x-aftership: unknown keys {sorted(unknown)}")
        retry = raw.get("retry")
        if retry not in ("idempotent", "natural-key", "unsafe"):
            raise self.fail(where, "x-aftership.retry must be idempotent, natural-key or unsafe")
        if method == "GET" and retry != "idempotent":
            raise self.fail(where, "a GET is idempotent")
        reason = clean_text(raw.get("retry-reason"))
        if not reason:
            raise self.fail(where, "x-aftership.retry-reason (one line) is required")
        key = raw.get("natural-key")
        if (key is not None) != (retry == "natural-key"):
            raise self.fail(where, "x-aftership.natural-key goes with retry: natural-key, only")
        fields: tuple[str, ...] = ()
        code: int | None = None
        if key is not None:
            code = key.get("code") if isinstance(key, dict) else None
            if not isinstance(code, int) or isinstance(code, bool):
                raise self.fail(where, "x-aftership.natural-key.code must be the refusal's code")
            fields = tuple(key.get("fields") or ())
            model = self.models.get(body.name or "") if body is not None else None
            known = {f.json_name for f in model.fields} if model else set()
            missing = [f for f in fields if f not in known]
            if missing:
                raise self.fail(where, f"natural-key fields {missing} are not body fields")
        check = clean_text(raw.get("outcome-check")) or None
        if check is None and retry != "idempotent":
            raise self.fail(where, "x-aftership.outcome-check is required unless idempotent")
        return RetrySafety(
            retry=retry, reason=reason, key_fields=fields, key_code=code, outcome_check=check
        )

    def alias(self, where: str, raw: Any, query_params: list[Param]) -> Alias:
        """One ``x-listed-as`` entry: a listed method name served by this operation."""
        if not isinstance(raw, dict):
            raise self.fail(where, "x-listed-as entries must be mappings")
        op_id = raw.get("operationId")
        if not isinstance(op_id, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", op_id):
            raise self.fail(where, "x-listed-as operationId must be a snake_case Python name")
        listed = raw.get("listed")
        if not isinstance(listed, str) or not re.fullmatch(
            r"(GET|POST|PUT|PATCH|DELETE) /\S*", listed
        ):
            raise self.fail(where, f"x-listed-as {op_id}: listed must be 'METHOD /path'")
        fixed = raw.get("fixed-query") or {}
        if not isinstance(fixed, dict):
            raise self.fail(where, f"x-listed-as {op_id}: fixed-query must be a mapping")
        by_json = {p.json_name: p for p in query_params}
        unknown = set(fixed) - set(by_json)
        if unknown:
            raise self.fail(
                where, f"x-listed-as {op_id}: unknown query parameters {sorted(unknown)}"
            )
        return Alias(
            operation_id=op_id,
            listed=listed,
            summary=clean_text(raw.get("summary")) or op_id.replace("_", " ").capitalize(),
            fixed_query=tuple((by_json[name].py_name, value) for name, value in fixed.items()),
        )

    def error_rules(self, raw: Any) -> ErrorRules:
        """The top-level ``x-aftership.errors`` block: how the envelope tells errors apart."""
        raw = raw if raw is not None else {}
        if not isinstance(raw, dict):
            raise self.fail("x-aftership.errors", "must be a mapping")
        unknown = set(raw) - {
            "business-min-code", "details-key", "retryable-codes", "classes", "pending-codes"
        }  # fmt: skip
        if unknown:
            raise self.fail("x-aftership.errors", f"unknown keys {sorted(unknown)}")
        minimum = raw.get("business-min-code")
        if minimum is not None and not _code(minimum):
            raise self.fail("x-aftership.errors", "business-min-code must be an integer")
        details = raw.get("details-key")
        if details is not None and not isinstance(details, str):
            raise self.fail("x-aftership.errors", "details-key must be a string")
        retryable = raw.get("retryable-codes") or []
        if not isinstance(retryable, list) or not all(_code(c) for c in retryable):
            raise self.fail("x-aftership.errors", "retryable-codes must be a list of codes")
        pending = raw.get("pending-codes") or []
        if not isinstance(pending, list) or not all(_code(c) for c in pending):
            raise self.fail("x-aftership.errors", "pending-codes must be a list of codes")
        if pending and (minimum is None or min(pending) < minimum):
            raise self.fail("x-aftership.errors", "pending-codes are business codes (>= min)")
        classes = raw.get("classes") or {}
        if not isinstance(classes, dict):
            raise self.fail("x-aftership.errors", "classes must map meta codes to classes")
        for code, name in classes.items():
            if not _code(code) or not isinstance(name, str) or not _CLASS_NAME.fullmatch(name):
                raise self.fail(
                    "x-aftership.errors", f"classes: {code!r}: {name!r} is not an error class"
                )
        if set(classes) & set(pending):
            raise self.fail("x-aftership.errors", "a pending code cannot also have an error class")
        return ErrorRules(
            business_min_code=minimum,
            details_key=details,
            retryable_codes=tuple(sorted(retryable)),
            classes=tuple(sorted(classes.items())),
            pending_codes=tuple(sorted(pending)),
        )

    def rate_limit_headers(self, raw: Any) -> None:
        """The top-level ``x-aftership.rate-limit-headers`` block, checked.

        It says how the API spells its headers, for the fake server (which reads the
        spec) and the reader; the client reads every spelling and unit whatever it says.
        """
        if raw is None:
            return
        where = "x-aftership.rate-limit-headers"
        if not isinstance(raw, dict) or set(raw) - {"prefix", "reset"}:
            raise self.fail(where, "must be a mapping of prefix and reset")
        if raw.get("prefix", "X-RateLimit-") not in ("X-RateLimit-", "RateLimit-"):
            raise self.fail(where, "prefix must be X-RateLimit- or RateLimit-")
        if raw.get("reset", "unix-seconds") not in _RESET_UNITS:
            raise self.fail(where, f"reset must be one of {', '.join(_RESET_UNITS)}")

    def webhooks(self, raw: Any) -> Webhooks | None:
        """The top-level ``x-aftership.webhooks`` block, checked against the models."""
        if raw is None:
            return None
        where = "x-aftership.webhooks"
        if not isinstance(raw, dict):
            raise self.fail(where, "must be a mapping")
        unknown = set(raw) - {
            "parser", "event", "signature-headers", "time-field", "time-required", "version-field",
            "id", "order",
        }  # fmt: skip
        if unknown:
            raise self.fail(where, f"unknown keys {sorted(unknown)}")
        parser = raw.get("parser")
        if not isinstance(parser, str) or not re.fullmatch(r"parse_[a-z_]*webhook", parser):
            raise self.fail(where, "parser must be a function name like parse_webhook")
        model = self.models.get(str(raw.get("event")))
        if model is None:
            raise self.fail(where, f"event {raw.get('event')!r} is not a model of this spec")
        fields = {f.json_name for f in model.fields}
        headers = []
        for entry in raw.get("signature-headers") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise self.fail(where, "signature-headers entries need a name")
            headers.append((entry["name"].lower(), str(entry.get("prefix", ""))))
        if not headers:
            raise self.fail(where, "signature-headers must name at least one header")
        time_field = raw.get("time-field")
        version_field = raw.get("version-field")
        for name in (time_field, version_field):
            if name is not None and name not in fields:
                raise self.fail(where, f"{name!r} is not a field of {model.name}")
        if time_field is None:
            raise self.fail(where, "time-field is required")
        paths: dict[str, tuple[tuple[str, ...], ...]] = {}
        for key in ("id", "order"):
            value = raw.get(key) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.fail(where, f"{key} must be a list of field paths")
            paths[key] = tuple(self.webhook_path(where, model, v) for v in value)
        return Webhooks(
            parser=parser,
            event=model.name,
            signature_headers=tuple(headers),
            time_field=str(time_field),
            time_required=bool(raw.get("time-required", False)),
            version_field=next(
                (f.py_name for f in model.fields if f.json_name == version_field), None
            ),
            id_fields=paths["id"],
            order_fields=paths["order"],
        )

    def resources(self, raw: Any, operations: list[Operation]) -> None:
        """The top-level ``x-aftership.resources`` block (read by the fake server), checked."""
        if raw is None:
            return
        where = "x-aftership.resources"
        if not isinstance(raw, dict):
            raise self.fail(where, "must map resource kinds to declarations")
        by_id = {op.operation_id: op for op in operations}
        roles = ("create", "read", "list", "update", "delete")
        known = {*roles, "schema", "keys", "unique", "missing", "filters", "search", "windows",
                 "state", "states", "initial", "lifecycle", "parent"}  # fmt: skip
        for kind, entry in raw.items():
            here = f"{where}.{kind}"
            if not isinstance(entry, dict) or set(entry) - known:
                raise self.fail(here, f"unknown keys {sorted(set(entry or {}) - known)}")
            if entry.get("schema") not in self.models:
                raise self.fail(here, f"schema {entry.get('schema')!r} is not a model")
            named = [entry.get(r) for r in roles]
            ops = [o for v in named for o in (v if isinstance(v, list) else [v]) if o]
            for name in lifecycle_ops(entry.get("lifecycle") or {}):
                ops.append(name)
            missing = [o for o in ops if o not in by_id]
            if missing:
                raise self.fail(here, f"unknown operations {missing}")
            listing = by_id.get(entry.get("list") or "")
            taken = {p.json_name for p in listing.query_params} if listing else set()
            params = [*(entry.get("filters") or {}), *(entry.get("search") or {})]
            params += [b for bounds in (entry.get("windows") or {}).values() for b in bounds[:2]]
            if [p for p in params if p not in taken]:
                raise self.fail(here, f"list parameters {sorted(set(params) - taken)} unknown")
            for action, rule in (entry.get("lifecycle") or {}).items():
                if not isinstance(rule, dict) or "from" not in rule or "to" not in rule:
                    raise self.fail(f"{here}.lifecycle.{action}", "needs from and to")
                codes = rule.get("refused")
                codes = codes.values() if isinstance(codes, dict) else [codes]
                if not all(c is None or _code(c) for c in [*codes, rule.get("over-limit")]):
                    raise self.fail(f"{here}.lifecycle.{action}", "codes must be integers")

    def bulk(self, raw: Any, operations: list[Operation], errors: ErrorRules) -> BulkBinding | None:
        """The top-level ``x-aftership.bulk`` block, checked against the operations."""
        if raw is None:
            return None
        where = "x-aftership.bulk"
        if not isinstance(raw, dict):
            raise self.fail(where, "must be a mapping")
        unknown = set(raw) - {"lookup", "create", "get", "detect", "not-found-code"}
        if unknown:
            raise self.fail(where, f"unknown keys {sorted(unknown)}")
        by_id = {op.operation_id: op for op in operations}

        def named(key: str) -> Operation:
            value = raw.get(key)
            name = value.get("operation") if isinstance(value, dict) else value
            if name not in by_id:
                raise self.fail(where, f"{key}: {name!r} is not an operation of this spec")
            return by_id[str(name)]

        def body_model(op: Operation, *fields: str) -> str:
            model = self.models.get(op.body.name or "") if op.body else None
            names = {f.json_name for f in model.fields} if model else set()
            if model is None or not set(fields) <= names:
                raise self.fail(where, f"{op.operation_id} needs a body model with {list(fields)}")
            return model.name

        lookup, create, get, detect = (named(k) for k in ("lookup", "create", "get", "detect"))
        raw_lookup = raw["lookup"] if isinstance(raw["lookup"], dict) else {}
        params = {p.json_name: p for p in lookup.query_params}
        numbers = raw_lookup.get("numbers")
        page_size = raw_lookup.get("page-size") or {}
        per_request = raw_lookup.get("per-request")
        if lookup.pagination is None or numbers not in params:
            raise self.fail(where, "lookup needs a paginated operation and its numbers parameter")
        if not isinstance(page_size, dict) or page_size.get("param") not in params:
            raise self.fail(where, "lookup.page-size needs {param: <query parameter>, value: n}")
        if not _code(per_request) or not _code(page_size.get("value")):
            raise self.fail(where, "lookup.per-request and lookup.page-size.value are integers")
        item = lookup.pagination.item_type
        if create.response.annotation != item or get.response.annotation != item:
            raise self.fail(where, f"create and get must answer the lookup's item, {item}")
        if len(get.path_params) != 1:
            raise self.fail(where, "get takes exactly one path parameter, the id")
        classes = dict(errors.classes)
        already_exists = classes.get(create.safety.key_code or -1)
        if already_exists is None:
            raise self.fail(where, "create needs a natural-key code in x-aftership.errors.classes")
        not_found = raw.get("not-found-code")
        if not _code(not_found) or not_found not in classes:
            raise self.fail(where, "not-found-code must be a code of x-aftership.errors.classes")
        return BulkBinding(
            lookup=lookup.pagination.method,
            numbers_param=params[str(numbers)].py_name,
            per_request=int(str(per_request)),
            page_size_param=params[str(page_size["param"])].py_name,
            page_size=int(page_size["value"]),
            create=create.operation_id,
            create_request=body_model(create, "tracking_number", "slug"),
            get=get.operation_id,
            detect=detect.operation_id,
            detect_request=body_model(detect, "tracking_number"),
            detect_result=detect.response.annotation,
            item=item,
            already_exists=already_exists,
            not_found_code=int(not_found),
        )

    def webhook_path(self, where: str, model: Model, dotted: str) -> tuple[str, ...]:
        """A dotted JSON path into the event model as attribute names, then plain keys.

        ``msg.updated_at`` -> ``("msg", "updated_at")`` with each model field's Python
        name; under a JSON object field (``data`` of Shipping) the rest are dict keys.
        """
        steps: list[str] = []
        current: Model | None = model
        parts = dotted.split(".")
        for index, part in enumerate(parts):
            if current is None:  # inside a plain JSON object
                steps.append(part)
                continue
            field = next((f for f in current.fields if f.json_name == part), None)
            if field is None:
                raise self.fail(where, f"{dotted!r}: {part!r} is not a field of {current.name}")
            steps.append(field.py_name)
            kind = field.type.kind
            if kind == "model":
                current = self.models[str(field.type.name)]
            elif kind in ("dict", "any"):
                current = None
            elif index < len(parts) - 1:
                raise self.fail(where, f"{dotted!r}: {part!r} has no fields")
        return tuple(steps)

    def build(self) -> Api:
        meta = self.doc.get("x-aftership")
        if not isinstance(meta, dict):
            raise self.fail("root", "x-aftership block is required")
        # Components first, in spec order, so the models module reads like the spec.
        for name in self.schemas:
            self.named_type(_SCHEMA_REF + name, name)
        operations: list[Operation] = []
        seen_ids: set[str] = set()
        for path, item in self.doc.get("paths", {}).items():
            for method in _HTTP_METHODS:
                if method in item:
                    op = self.operation(path, method, item[method], item.get("parameters", []))
                    for op_id in [op.operation_id, *(a.operation_id for a in op.aliases)]:
                        if op_id in seen_ids:
                            raise self.fail(op.endpoint, f"duplicate operationId {op_id}")
                        seen_ids.add(op_id)
                    operations.append(op)
        self.resources(meta.get("resources"), operations)
        errors = self.error_rules(meta.get("errors"))
        bulk = self.bulk(meta.get("bulk"), operations, errors)
        support = meta.get("support") or {}
        scope = meta.get("rate-limit-scope", "endpoint")
        if scope not in ("endpoint", "api"):
            raise self.fail("x-aftership", "rate-limit-scope must be 'endpoint' or 'api'")
        self.rate_limit_headers(meta.get("rate-limit-headers"))
        return Api(
            name=str(meta["api"]),
            title=clean_text(self.doc["info"]["title"]),
            version=str(meta["version"]),
            base_url=self.doc["servers"][0]["url"].rstrip("/"),
            envelope=str(meta["envelope"]),
            errors=errors,
            webhooks=self.webhooks(meta.get("webhooks")),
            bulk=bulk,
            default_rate_limit=float(meta.get("default-rate-limit", 10)),
            rate_limit_scope=scope,
            released=_iso_date(support.get("released")),
            supported_until=_iso_date(support.get("until")),
            spec_file=self.spec_file,
            spec_sha256=self.spec.sha256,
            description=clean_text(self.doc["info"].get("description")),
            operations=tuple(operations),
            models=tuple(self.models.values()),
            enums=tuple(self.enums.values()),
        )


_CLASS_NAME = re.compile(r"[A-Z][A-Za-z]*Error")

#: What a parameter's docs add for its wire format.
_WIRE_FORMAT_NOTES = {
    "date-time-seconds": " Give an aware datetime: it goes out in whole seconds with an explicit"
    " offset (`+00:00`, never `Z`); a naive one raises InvalidRequestError.",
}

_RESET_UNITS = ("unix-seconds", "unix-milliseconds", "delta-seconds")

#: The patterns a ``format: date-time`` query parameter may declare, and the wire format
#: each stands for (the runtime's names): whole seconds and an explicit offset, no ``Z``.
_QUERY_DATE_TIME_PATTERNS = {
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$": "date-time-seconds",
}


def lifecycle_ops(lifecycle: dict[str, Any]) -> list[str]:
    """The operations a resource's lifecycle rules name."""
    return [o for rule in lifecycle.values() if isinstance(rule, dict)
            for o in rule.get("operations") or []]  # fmt: skip


def _code(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: String formats holding a date or a time, and the Python type of each. ``date-time-local``
#: and ``time-local`` (the OpenAPI Format Registry's: RFC 3339 without the offset) are for
#: values AfterShip documents without an offset; validators do not know them, so each
#: carries a ``pattern`` they check.
_TEMPORAL_FORMATS: dict[str, TypeKind] = {
    "date-time": "datetime",
    "date-time-local": "datetime",
    "date": "date",
    "time-local": "time",
    "time": "time",
}
#: The pattern each local form carries (spec/CONVENTIONS.md "Dates and times").
LOCAL_PATTERNS = {
    "date-time-local": (
        r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
        r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?$"
    ),
    "time-local": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
}


def _temporal_format(schema: Any) -> bool:
    """Whether ``schema`` is ``{type: string, format: <a date or time format>}``."""
    return (
        isinstance(schema, dict)
        and schema.get("type") == "string"
        and schema.get("format") in _TEMPORAL_FORMATS
    )


def _iso_date(value: Any) -> str | None:
    """A support-window date as ``YYYY-MM-DD`` (YAML may have parsed it into a date)."""
    if value is None:
        return None
    text = str(value)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise SpecError(f"x-aftership.support dates must be YYYY-MM-DD, got {text!r}")
    return text


def build(spec: LoadedSpec, spec_file: str) -> Api:
    """The intermediate model of one API; ``spec_file`` is the path shown in headers."""
    return _Builder(spec, spec_file).build()


def check_unique_names(apis: list[Api]) -> None:
    """Class names are exported flat from ``aftership_async``: they must not clash."""
    owner: dict[str, str] = {}
    for api in apis:
        for name in [m.name for m in api.models] + [e.name for e in api.enums] + [api.class_name]:
            if name in owner:
                raise SpecError(f"{name} is defined by both {owner[name]} and {api.spec_file}")
            owner[name] = api.spec_file
