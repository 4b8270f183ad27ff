"""``python -m codegen diff OLD.yaml NEW.yaml [--json]``: what changed for SDK users.

Compares two specs of one API through the intermediate model
(:func:`codegen.build.build`), so changes are named the way the SDK names them
(method names, class names, Python field names and annotations). Extensions
the intermediate model does not carry are read from the raw documents:
``x-listed-as`` (listed-operation aliases), other ``x-*`` keys on operations,
and the top-level ``x-aftership`` block.

A *method* is an operation (named by its ``operationId``) or an alias listed
under an operation's ``x-listed-as``: the alias takes the operation's
parameters minus its ``fixed-query`` ones and sends the fixed values. Methods
are matched by name, so one that moves to another endpoint or becomes an alias
is reported as moved, not as removed and added.

A model is used in *requests* if an operation's body reaches it and in
*responses* if an operation's response reaches it; a model no operation
reaches (webhook payloads, ``Meta``) counts as a response model. The roles of
both versions are combined. An enum is used in requests if a parameter or a
request model mentions it.

Breaking (exit code 1):

- a method removed (an alias that keeps the name is not a removal), or its
  paginating iterator (``iter_*``) removed;
- a parameter removed; a path parameter added or removed (they are
  positional); a parameter added as required; a parameter becoming required;
  a path parameter's ``pattern`` added or changed (the client refuses values it
  used to send);
- a type changed anywhere (parameter, request body, response, field,
  iterator item): annotations are compared after following class renames; a
  parameter or request-only field that only widens (``str`` -> ``str | list[str]``)
  and a response-only field that only narrows are not breaking;
- a request body added to or removed from a method;
- a model field removed (request models: callers pass it; response models:
  callers read it);
- a required field added to a request model; a request field becoming required
  or no longer accepting ``None``;
- a response field that was required becoming optional, or one that was not
  nullable becoming nullable (typed code that read it must handle absence);
- a model or enum class removed or renamed (callers may import the old name);
- an enum value removed: a request enum loses a value callers may send, and
  for every enum the member (``Tag.EXPIRED``) disappears from the class;
- the API's client attribute (``x-aftership.api``) or envelope changed.

Not breaking (reported, exit code 0 if nothing else breaks): added methods,
iterators, models, enums, optional parameters, optional request fields and
response fields; enum values added (enums are open); a path parameter's
pattern removed; a request field becoming optional or nullable; a response
field becoming required or non-nullable; a path parameter renamed
(positional-only); a method's endpoint, HTTP method,
listed method, alias target or fixed query, success status or rate limit
changed (the call signature still works); the pinned version, base URL and
default rate limit; other ``x-*`` extensions on operations. Summaries,
descriptions and tags are not reported.

Output is grouped (api, operations, models, enums), sorted, one change per
line, ``BREAKING`` marking breaking ones, and ends with ``N changes, M
breaking``. Exit codes: 1 if something breaks, 0 otherwise, 2 for usage
errors, unreadable or invalid specs, or two specs of different APIs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .build import build
from .ir import Api, Field, Model, Operation, Pagination, Param, TypeRef
from .load import LoadedSpec, SpecError, load

GROUPS = ("api", "operations", "models", "enums")
_KNOWN_OP_EXTENSIONS = {
    "x-rate-limit",
    "x-pagination",
    "x-listed-method",
    "x-listed-as",
    "x-aftership",
}
_HTTP_METHODS = ("get", "put", "post", "delete", "patch")
_RENAME_THRESHOLD = 0.8


@dataclass(frozen=True)
class Change:
    """One line of the report."""

    group: str
    subject: str
    item: str
    message: str
    breaking: bool

    def sort_key(self) -> tuple[int, str, str, str]:
        return (GROUPS.index(self.group), self.subject, self.item, self.message)

    def line(self) -> str:
        return f"{'BREAKING' if self.breaking else '':<10}{self.message}"


@dataclass(frozen=True)
class DiffResult:
    old_path: str
    new_path: str
    api: str
    old_version: str
    new_version: str
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.breaking)

    @property
    def exit_code(self) -> int:
        return 1 if self.breaking else 0

    def summary(self) -> str:
        return f"{len(self.changes)} changes, {len(self.breaking)} breaking"

    def text(self) -> str:
        lines = [
            f"API {self.api}: {self.old_version} ({self.old_path}) -> "
            f"{self.new_version} ({self.new_path})"
        ]
        for group in GROUPS:
            in_group = [c for c in self.changes if c.group == group]
            if in_group:
                lines += ["", group.capitalize()]
                lines += [c.line() for c in in_group]
        if not self.changes:
            lines += ["", "No changes."]
        lines += ["", self.summary()]
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "old": {"path": self.old_path, "version": self.old_version},
            "new": {"path": self.new_path, "version": self.new_version},
            "changes": [
                {
                    "group": c.group,
                    "subject": c.subject,
                    "item": c.item,
                    "breaking": c.breaking,
                    "message": c.message,
                }
                for c in self.changes
            ],
            "summary": {"changes": len(self.changes), "breaking": len(self.breaking)},
        }


# -- methods: operations and their listed aliases ---------------------------


@dataclass(frozen=True)
class Method:
    """A generated method: an operation, or an alias of one (``x-listed-as``)."""

    name: str
    operation: Operation
    alias_of: str | None
    listed: str | None
    fixed_query: tuple[tuple[str, Any], ...]
    path_params: tuple[Param, ...]
    query_params: tuple[Param, ...]
    pagination: Pagination | None
    extensions: Mapping[str, Any] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        """``GET /couriers?active=true``: what the method sends, fixed query included."""
        query = "&".join(f"{k}={_show(v)}" for k, v in self.fixed_query if v is not None)
        return self.operation.endpoint + (f"?{query}" if query else "")

    def describe(self) -> str:
        """The endpoint, plus the operation and listing an alias stands for.

        A fixed value of None is never sent: the alias hides the parameter.
        """
        if self.alias_of is None:
            return self.endpoint
        text = f"{self.endpoint}, alias of {self.alias_of}"
        unset = [k for k, v in self.fixed_query if v is None]
        if unset:
            text += f" without {', '.join(unset)}"
        return text + (f", listed as {self.listed}" if self.listed else "")


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _raw_operations(spec: LoadedSpec) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path, item in (spec.document.get("paths") or {}).items():
        for method in _HTTP_METHODS:
            if isinstance(item, dict) and isinstance(item.get(method), dict):
                found[(method.upper(), path)] = item[method]
    return found


def methods_of(api: Api, spec: LoadedSpec) -> dict[str, Method]:
    """Every method the SDK generates for ``api``, aliases included, by name."""
    raw_ops = _raw_operations(spec)
    methods: dict[str, Method] = {}

    def add(method: Method) -> None:
        if method.name in methods:
            raise SpecError(f"{spec.path}: method name {method.name} is used twice")
        methods[method.name] = method

    for op in api.operations:
        raw = raw_ops.get((op.method, op.path), {})
        extensions = {
            k: v for k, v in raw.items() if k.startswith("x-") and k not in _KNOWN_OP_EXTENSIONS
        }
        add(
            Method(
                name=op.operation_id,
                operation=op,
                alias_of=None,
                listed=None,
                fixed_query=(),
                path_params=op.path_params,
                query_params=op.query_params,
                pagination=op.pagination,
                extensions=extensions,
            )
        )
        for name, listed, fixed in _aliases(spec, op, raw):
            fixed_names = {key for key, _ in fixed}
            add(
                Method(
                    name=name,
                    operation=op,
                    alias_of=op.operation_id,
                    listed=listed,
                    fixed_query=fixed,
                    path_params=op.path_params,
                    query_params=tuple(p for p in op.query_params if p.py_name not in fixed_names),
                    pagination=None,  # aliases get no iter_* method
                )
            )
    return methods


_AliasSpec = tuple[str, str | None, tuple[tuple[str, Any], ...]]


def _aliases(spec: LoadedSpec, op: Operation, raw: Mapping[str, Any]) -> list[_AliasSpec]:
    """``(method name, listed endpoint, fixed query by Python name)`` of each alias of ``op``.

    Taken from ``Operation.aliases`` when the intermediate model has them, else
    read from the operation's ``x-listed-as``.
    """
    from_ir = getattr(op, "aliases", None)
    if from_ir is not None:
        return [(str(a.operation_id), a.listed, tuple(sorted(a.fixed_query))) for a in from_ir]
    where = f"{spec.path}: {op.endpoint}: x-listed-as"
    entries = raw.get("x-listed-as", [])
    if not isinstance(entries, list):
        raise SpecError(f"{where} must be a list")
    by_json = {p.json_name: p.py_name for p in op.query_params}
    found: list[_AliasSpec] = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("operationId"), str):
            raise SpecError(f"{where}: every entry needs an operationId")
        fixed = entry.get("fixed-query") or {}
        if not isinstance(fixed, dict):
            raise SpecError(f"{where}: fixed-query must be a mapping")
        unknown = sorted(set(fixed) - set(by_json))
        if unknown:
            raise SpecError(f"{where}: fixed-query names unknown query parameters {unknown}")
        listed = entry.get("listed")
        found.append(
            (
                entry["operationId"],
                str(listed) if listed is not None else None,
                tuple(sorted((by_json[k], v) for k, v in fixed.items())),
            )
        )
    return found


# -- roles and renames -------------------------------------------------------


def _reach(api: Api, roots: Iterable[TypeRef]) -> set[str]:
    """Model and enum names reachable from ``roots`` through model fields."""
    models = {m.name: m for m in api.models}
    seen: set[str] = set()
    todo = [name for root in roots for name in root.names()]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in models:
            todo += [n for f in models[name].fields for n in f.type.names()]
    return seen


def _request_names(api: Api, methods: Iterable[Method]) -> set[str]:
    roots = [m.operation.body for m in methods if m.operation.body is not None]
    roots += [p.type for m in methods for p in (*m.path_params, *m.query_params)]
    return _reach(api, roots)


def _response_names(api: Api) -> set[str]:
    return _reach(api, [op.response for op in api.operations])


def _match_renames(
    removed: Mapping[str, frozenset[str]], added: Mapping[str, frozenset[str]]
) -> dict[str, str]:
    """Pair removed names with added ones whose contents mostly agree.

    Contents are field names (models) or values (enums), compared by Jaccard
    index. A pair counts only if each is the other's single best match: when two
    removed classes look alike (two one-field ``couriers`` pages merged into
    one), nothing is called a rename and each removal is reported as such.
    """
    scores: dict[tuple[str, str], float] = {}
    for old, old_keys in removed.items():
        for new, new_keys in added.items():
            union = old_keys | new_keys
            if union and len(old_keys & new_keys) / len(union) >= _RENAME_THRESHOLD:
                scores[(old, new)] = len(old_keys & new_keys) / len(union)

    def best(side: int, name: str) -> list[str]:
        mine = {pair: score for pair, score in scores.items() if pair[side] == name}
        top = max(mine.values(), default=0.0)
        return [pair[1 - side] for pair, score in mine.items() if score == top]

    return {
        old: new for old, new in sorted(scores) if best(0, old) == [new] and best(1, new) == [old]
    }


def _renamed(t: TypeRef, renames: Mapping[str, str]) -> TypeRef:
    """``t`` with old class names replaced by their new names."""
    if t.name is not None:
        return TypeRef(t.kind, name=renames.get(t.name, t.name))
    if t.item is not None:
        return TypeRef(t.kind, item=_renamed(t.item, renames))
    return t


def _annotation(t: TypeRef, renames: Mapping[str, str]) -> str:
    return _renamed(t, renames).annotation


def _members(annotation: str) -> frozenset[str]:
    """The members of a top-level union annotation (``a | list[b | c]`` -> a, list[b | c])."""
    members, depth, start = [], 0, 0
    for i, ch in enumerate(annotation):
        depth += ch == "["
        depth -= ch == "]"
        if depth == 0 and annotation.startswith(" | ", i):
            members.append(annotation[start:i])
            start = i + 3
    members.append(annotation[start:])
    return frozenset(m.strip() for m in members)


def _widened(before: str, after: str) -> bool:
    """Whether ``after`` accepts everything ``before`` did (an input may widen safely)."""
    return _members(before) <= _members(after)


def _param_annotation(p: Param, renames: Mapping[str, str]) -> str:
    return dataclasses.replace(p, type=_renamed(p.type, renames)).annotation


# -- the comparison ----------------------------------------------------------


class _Differ:
    def __init__(self, old: Api, new: Api, old_spec: LoadedSpec, new_spec: LoadedSpec) -> None:
        self.old, self.new = old, new
        self.old_spec, self.new_spec = old_spec, new_spec
        self.old_methods = methods_of(old, old_spec)
        self.new_methods = methods_of(new, new_spec)
        self.changes: list[Change] = []
        old_models = {m.name: m for m in old.models}
        new_models = {m.name: m for m in new.models}
        old_enums = {e.name: frozenset(m.value for m in e.members) for e in old.enums}
        new_enums = {e.name: frozenset(m.value for m in e.members) for e in new.enums}
        old_fields = {n: frozenset(f.json_name for f in m.fields) for n, m in old_models.items()}
        new_fields = {n: frozenset(f.json_name for f in m.fields) for n, m in new_models.items()}
        self.model_renames = _match_renames(
            {n: v for n, v in old_fields.items() if n not in new_fields},
            {n: v for n, v in new_fields.items() if n not in old_fields},
        )
        self.enum_renames = _match_renames(
            {n: v for n, v in old_enums.items() if n not in new_enums},
            {n: v for n, v in new_enums.items() if n not in old_enums},
        )
        self.renames = {**self.model_renames, **self.enum_renames}
        # Roles in new names: a model is a request model if either version sends it.
        self.request: set[str] = set(_request_names(new, self.new_methods.values()))
        self.request |= {
            self.renames.get(n, n) for n in _request_names(old, self.old_methods.values())
        }
        self.response: set[str] = set(_response_names(new))
        self.response |= {self.renames.get(n, n) for n in _response_names(old)}
        for name in [*new_models, *new_enums]:
            if name not in self.request:
                self.response.add(name)

    def add(self, group: str, subject: str, item: str, message: str, breaking: bool) -> None:
        self.changes.append(Change(group, subject, item, message, breaking))

    def same_type(self, old: TypeRef, new: TypeRef) -> bool:
        return _annotation(old, self.renames) == new.annotation

    def run(self) -> list[Change]:
        self.api_level()
        self.operations()
        self.models()
        self.enums()
        return sorted(set(self.changes), key=Change.sort_key)

    # -- api ----------------------------------------------------------------

    def api_level(self) -> None:
        old, new = self.old, self.new
        if old.version != new.version:
            self.add("api", "", "version", f"version {old.version} -> {new.version}", False)
        if old.base_url != new.base_url:
            self.add("api", "", "base_url", f"base URL {old.base_url} -> {new.base_url}", False)
        if old.envelope != new.envelope:
            self.add("api", "", "envelope", f"envelope {old.envelope} -> {new.envelope}", True)
        if old.default_rate_limit != new.default_rate_limit:
            self.add(
                "api",
                "",
                "default-rate-limit",
                f"default rate limit {old.default_rate_limit:g} -> {new.default_rate_limit:g}/s",
                False,
            )
        old_meta = self.old_spec.document.get("x-aftership") or {}
        new_meta = self.new_spec.document.get("x-aftership") or {}
        covered = {"api", "version", "envelope", "default-rate-limit"}
        for key in sorted((set(old_meta) | set(new_meta)) - covered):
            before, after = old_meta.get(key), new_meta.get(key)
            if before != after:
                self.add(
                    "api",
                    "",
                    f"x-aftership.{key}",
                    f"x-aftership.{key} {_show(before)} -> {_show(after)}",
                    False,
                )

    # -- operations ---------------------------------------------------------

    def operations(self) -> None:
        for name in sorted(set(self.old_methods) - set(self.new_methods)):
            old = self.old_methods[name]
            self.add("operations", name, "", f"operation {name} removed ({old.describe()})", True)
        for name in sorted(set(self.new_methods) - set(self.old_methods)):
            new = self.new_methods[name]
            self.add("operations", name, "", f"operation {name} added ({new.describe()})", False)
        for name in sorted(set(self.old_methods) & set(self.new_methods)):
            self.method(self.old_methods[name], self.new_methods[name])

    def method(self, old: Method, new: Method) -> None:
        name = new.name
        o, n = old.operation, new.operation

        def report(item: str, text: str, breaking: bool) -> None:
            self.add("operations", name, item, f"operation {name}: {text}", breaking)

        if old.describe() != new.describe():
            report("endpoint", f"endpoint {old.describe()} -> {new.describe()}", False)
        if o.listed_method != n.listed_method:
            listed = f"{o.listed_method or '-'} -> {n.listed_method or '-'}"
            report("listed-method", f"listed method {listed}", False)
        if o.success_status != n.success_status:
            report("status", f"success status {o.success_status} -> {n.success_status}", False)
        if o.rate_limit != n.rate_limit:
            before_rate = "-" if o.rate_limit is None else f"{o.rate_limit:g}/s"
            after_rate = "-" if n.rate_limit is None else f"{n.rate_limit:g}/s"
            report("rate-limit", f"rate limit {before_rate} -> {after_rate}", False)
        if o.safety.retry != n.safety.retry:
            # Retried before, and now not: a failure that may have acted raises
            # OutcomeUnknownError where the call used to succeed on a retry.
            report(
                "retry",
                f"retry safety {o.safety.retry} -> {n.safety.retry}",
                n.safety.retry == "unsafe",
            )
        for key in sorted(set(old.extensions) | set(new.extensions)):
            old_value, new_value = old.extensions.get(key), new.extensions.get(key)
            if old_value != new_value:
                report(key, f"{key} {_show(old_value)} -> {_show(new_value)}", False)

        self.path_params(old.path_params, new.path_params, report)
        self.query_params(old.query_params, new.query_params, report)

        if o.body is None and n.body is not None:
            report("body", f"request body added ({n.body.annotation})", True)
        elif o.body is not None and n.body is None:
            report("body", f"request body removed (was {o.body.annotation})", True)
        elif o.body is not None and n.body is not None and not self.same_type(o.body, n.body):
            report("body", f"request body type {o.body.annotation} -> {n.body.annotation}", True)
        if not self.same_type(o.response, n.response):
            text = f"response type {o.response.annotation} -> {n.response.annotation}"
            report("response", text, True)

        op_, np_ = old.pagination, new.pagination
        if op_ is not None and np_ is None:
            report("pagination", f"iterator {op_.method} removed", True)
        elif op_ is None and np_ is not None:
            report("pagination", f"iterator {np_.method} added", False)
        elif op_ is not None and np_ is not None:
            if op_.method != np_.method:
                report("pagination", f"iterator {op_.method} renamed to {np_.method}", True)
            if self.renames.get(op_.item_type, op_.item_type) != np_.item_type:
                text = f"iterator item type {op_.item_type} -> {np_.item_type}"
                report("pagination", text, True)
            if (op_.style, op_.items) != (np_.style, np_.items):
                text = f"pagination {op_.style} over {op_.items} -> {np_.style} over {np_.items}"
                report("pagination", text, False)

    def path_params(
        self,
        old: tuple[Param, ...],
        new: tuple[Param, ...],
        report: Callable[[str, str, bool], None],
    ) -> None:
        if len(old) != len(new):
            before = ", ".join(p.py_name for p in old)
            after = ", ".join(p.py_name for p in new)
            report("path", f"path parameters ({before}) -> ({after})", True)
            return
        for index, (o, n) in enumerate(zip(old, new, strict=True)):
            if o.py_name != n.py_name:
                text = f"path parameter {index + 1} renamed {o.py_name} -> {n.py_name}"
                report(f"path {index}", text, False)
            before, after = _param_annotation(o, self.renames), n.annotation
            if before != after:
                text = f"path parameter {n.py_name} type {o.annotation} -> {after}"
                report(f"path {index}", text, not _widened(before, after))
            if o.pattern != n.pattern:
                # A new or changed pattern refuses, before the network, values that were sent.
                text = (
                    f"path parameter {n.py_name} pattern {o.pattern or '-'} -> {n.pattern or '-'}"
                )
                report(f"path {index} pattern", text, n.pattern is not None)

    def query_params(
        self,
        old: tuple[Param, ...],
        new: tuple[Param, ...],
        report: Callable[[str, str, bool], None],
    ) -> None:
        before = {p.py_name: p for p in old}
        after = {p.py_name: p for p in new}
        for name in sorted(set(before) - set(after)):
            report(f"query {name}", f"parameter {name} removed", True)
        for name in sorted(set(after) - set(before)):
            p = after[name]
            required = "required" if p.required else "optional"
            text = f"parameter {name} added ({required}, {p.annotation})"
            report(f"query {name}", text, p.required)
        for name in sorted(set(before) & set(after)):
            o, n = before[name], after[name]
            before_type = _param_annotation(o, self.renames)
            if before_type != n.annotation:
                text = f"parameter {name} type {o.annotation} -> {n.annotation}"
                report(f"query {name}", text, not _widened(before_type, n.annotation))
            if o.required and not n.required:
                report(f"query {name}", f"parameter {name} no longer required", False)
            elif n.required and not o.required:
                report(f"query {name}", f"parameter {name} now required", True)

    # -- models -------------------------------------------------------------

    def models(self) -> None:
        old = {m.name: m for m in self.old.models}
        new = {m.name: m for m in self.new.models}
        for name in sorted(set(old) - set(new)):
            if name in self.model_renames:
                target = self.model_renames[name]
                self.add("models", target, "", f"model {name} renamed to {target}", True)
                self.model(old[name], new[target])
            else:
                self.add("models", name, "", f"model {name} removed", True)
        renamed_to = set(self.model_renames.values())
        for name in sorted(set(new) - set(old) - renamed_to):
            self.add("models", name, "", f"model {name} added", False)
        for name in sorted(set(old) & set(new)):
            self.model(old[name], new[name])

    def model(self, old: Model, new: Model) -> None:
        name = new.name
        request, response = name in self.request, name in self.response
        before = {f.json_name: f for f in old.fields}
        after = {f.json_name: f for f in new.fields}

        def report(f: Field, text: str, breaking: bool) -> None:
            self.add("models", name, f.py_name, f"model {name}: field {f.py_name} {text}", breaking)

        for key in sorted(set(before) - set(after)):
            f = before[key]
            report(f, f"removed (was {f.annotation})", True)
        for key in sorted(set(after) - set(before)):
            f = after[key]
            if request and f.required:
                report(f, f"added as required in a request model ({f.annotation})", True)
            else:
                report(f, f"added ({f.annotation})", False)
        for key in sorted(set(before) & set(after)):
            o, n = before[key], after[key]
            if o.py_name != n.py_name:
                report(n, f"renamed in Python from {o.py_name}", True)
            if not self.same_type(o.type, n.type):
                # Inputs may widen and outputs narrow; anything else breaks someone.
                old_type = _annotation(o.type, self.renames)
                safe = (request or response) and (
                    (not response or _widened(n.type.annotation, old_type))
                    and (not request or _widened(old_type, n.type.annotation))
                )
                report(n, f"type {o.type.annotation} -> {n.type.annotation}", not safe)
            if o.required and not n.required:
                report(n, "no longer required" + (" (responses may omit it)" * response), response)
            elif n.required and not o.required:
                report(n, "now required" + (" (requests must send it)" * request), request)
            if n.nullable and not o.nullable:
                report(n, "now nullable" + (" (responses may send null)" * response), response)
            elif o.nullable and not n.nullable:
                report(
                    n, "no longer nullable" + (" (requests may not send null)" * request), request
                )

    # -- enums --------------------------------------------------------------

    def enums(self) -> None:
        old = {e.name: e for e in self.old.enums}
        new = {e.name: e for e in self.new.enums}
        for name in sorted(set(old) - set(new)):
            if name in self.enum_renames:
                target = self.enum_renames[name]
                self.add("enums", target, "", f"enum {name} renamed to {target}", True)
                self.enum_values(name, target, old[name].members, new[target].members)
            else:
                self.add("enums", name, "", f"enum {name} removed", True)
        renamed_to = set(self.enum_renames.values())
        for name in sorted(set(new) - set(old) - renamed_to):
            self.add("enums", name, "", f"enum {name} added", False)
        for name in sorted(set(old) & set(new)):
            self.enum_values(name, name, old[name].members, new[name].members)

    def enum_values(self, old_name: str, name: str, old: Iterable[Any], new: Iterable[Any]) -> None:
        before = {m.value: m.name for m in old}
        after = {m.value: m.name for m in new}
        request = name in self.request
        for value in sorted(set(before) - set(after)):
            why = "callers may send it" if request else f"{name}.{before[value]} is gone"
            self.add("enums", name, value, f"enum {name}: value {value!r} removed ({why})", True)
        for value in sorted(set(after) - set(before)):
            self.add("enums", name, value, f"enum {name}: value {value!r} added", False)
        for value in sorted(set(before) & set(after)):
            if before[value] != after[value]:
                text = f"enum {name}: member {before[value]} renamed to {after[value]}"
                self.add("enums", name, value, text, True)


# -- entry points ------------------------------------------------------------


def diff_specs(old_path: Path, new_path: Path) -> DiffResult:
    """Load, build and compare two specs; raises :class:`SpecError` if either is unusable."""
    loaded: list[tuple[LoadedSpec, Api]] = []
    for path in (old_path, new_path):
        try:
            spec = load(path)
        except (OSError, yaml.YAMLError) as exc:
            raise SpecError(f"{path}: cannot read spec: {exc}") from exc
        loaded.append((spec, build(spec, str(path))))
    (old_spec, old), (new_spec, new) = loaded
    if old.name != new.name:
        raise SpecError(f"{old_path} describes API {old.name}, {new_path} describes {new.name}")
    changes = _Differ(old, new, old_spec, new_spec).run()
    return DiffResult(
        old_path=str(old_path),
        new_path=str(new_path),
        api=new.name,
        old_version=old.version,
        new_version=new.version,
        changes=tuple(changes),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m codegen diff",
        description="Report what changed between two specs of one API, marking breaking changes.",
        epilog="Exit code 1 if a change breaks SDK users, 0 if none does, 2 on errors.",
    )
    parser.add_argument("old", type=Path, help="the spec users upgrade from")
    parser.add_argument("new", type=Path, help="the spec users upgrade to")
    parser.add_argument("--json", action="store_true", help="print the changes as JSON")
    args = parser.parse_args(argv)
    try:
        result = diff_specs(args.old, args.new)
    except SpecError as exc:
        print(f"codegen diff: {exc}", file=sys.stderr)
        return 2
    if args.json:
        sys.stdout.write(json.dumps(result.as_json(), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(result.text())
    return result.exit_code
