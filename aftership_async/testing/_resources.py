"""The spec's ``x-aftership.resources``, interpreted: one engine for every resource.

Each API's spec declares the resources it keeps (spec/CONVENTIONS.md, "Resources"):
the record's schema, the operations that create, read, list, update and delete it,
its list filters, search and time windows, the path parameters that find it, the
code for an unknown one, its state field and lifecycle (from states -> to state,
the refusal's code, a limit). :func:`build_handlers` turns that into one handler
per operation. A record is :func:`~._records.fresh` from its schema, overlaid with
the request's fields and its initial state; what AfterShip *computes* (courier
detection, tracking stories, rates, prices) comes from the API's :class:`Behaviour`
hooks, the only hand-written part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import attrs

from ._envelopes import Failure, not_found, refused
from ._paging import PAGERS
from ._records import fresh, iso, overlay, put, sample, values
from ._spec import ApiSpec
from ._state import Call, Collection, Handler, parse_time

__all__ = ["Behaviour", "Resource", "Rule", "build_handlers", "move", "resources", "transition"]

Hook = Callable[[Call, dict[str, Any]], Any]
"""Computes on a record being created/read/updated (in place); a non-None result is the answer."""


@attrs.frozen
class Rule:
    """One lifecycle transition: ``sources`` -> ``target``, refused with ``refused``."""

    action: str
    operations: tuple[str, ...]
    sources: frozenset[str]
    target: str
    refused: Mapping[str, int] = attrs.field(factory=dict)  # source state -> code, "*": others
    limit: int | None = None
    over_limit: int | None = None
    stamp: str | None = None
    copy: tuple[str, ...] = ()
    locate: str | None = None  # body path of the record's id (cancel_label: label.id)


@attrs.frozen
class Resource:
    """One ``x-aftership.resources`` entry."""

    api: str
    kind: str
    schema: str
    create: tuple[str, ...]
    read: tuple[str, ...]
    list: str | None
    update: tuple[str, ...]
    delete: str | None
    keys: Mapping[str, str]
    missing: int | None
    filters: Mapping[str, str]
    search: Mapping[str, tuple[str, ...]]
    windows: Mapping[str, tuple[str, str, str | None]]
    state: str | None
    initial: Mapping[str, Any]
    lifecycle: Mapping[str, Rule]
    parent: str | None
    #: The natural key (fields, refusal code): ``unique``, else the create's ``natural-key``.
    unique: tuple[tuple[str, ...], int | None] = ((), None)


def _rule(action: str, raw: Mapping[str, Any]) -> Rule:
    code = raw.get("refused")
    codes = dict(code) if isinstance(code, Mapping) else ({"*": code} if code else {})
    return Rule(
        action=action,
        operations=tuple(raw.get("operations", ())),
        sources=frozenset(raw["from"]),
        target=raw["to"],
        refused=codes,
        limit=raw.get("limit"),
        over_limit=raw.get("over-limit"),
        stamp=raw.get("stamp"),
        copy=tuple(raw.get("copy", ())),
        locate=raw.get("target"),
    )


def resources(spec: ApiSpec) -> Mapping[str, Resource]:
    """The resources one API's spec declares, by kind (read once per spec document)."""
    return _read_resources(id(spec.document), spec)


@cache
def _read_resources(document_id: int, spec: ApiSpec) -> Mapping[str, Resource]:
    declared = spec.document["x-aftership"].get("resources") or {}
    found = {}
    for kind, raw in declared.items():
        windows = {
            field: (bounds[0], bounds[1], bounds[2] if len(bounds) > 2 else None)
            for field, bounds in (raw.get("windows") or {}).items()
        }
        found[kind] = Resource(
            api=spec.name,
            kind=kind,
            schema=raw["schema"],
            create=_names(raw.get("create")),
            read=tuple(raw.get("read", ())),
            list=raw.get("list"),
            update=tuple(raw.get("update", ())),
            delete=raw.get("delete"),
            keys=raw.get("keys") or {"id": "id"},
            missing=raw.get("missing"),
            filters=raw.get("filters") or {},
            search={k: tuple(v) for k, v in (raw.get("search") or {}).items()},
            windows=windows,
            state=raw.get("state"),
            initial=raw.get("initial") or {},
            lifecycle={a: _rule(a, r) for a, r in (raw.get("lifecycle") or {}).items()},
            parent=raw.get("parent"),
            unique=_unique_key(spec, raw),
        )
    return found


def _names(raw: str | list[str] | None) -> tuple[str, ...]:
    """An operation role's names: one operationId or a list of them."""
    return (raw,) if isinstance(raw, str) else tuple(raw or ())


def _unique_key(spec: ApiSpec, raw: Mapping[str, Any]) -> tuple[tuple[str, ...], int | None]:
    declared = raw.get("unique")
    names = _names(raw.get("create"))
    create = spec.operation(names[0]) if names else None
    code = create.key_code if create else None
    if declared:
        return tuple(declared["fields"]), declared.get("code", code)
    return (create.key_fields, code) if create else ((), None)


@attrs.frozen
class Behaviour:
    """What one API computes, by hand: the only per-operation code of the fake."""

    #: operationId -> hook run on the record before it is stored, answered or committed.
    hooks: Mapping[str, Hook] = attrs.field(factory=dict)
    #: operationId -> a handler for operations that only compute (no resource).
    handlers: Mapping[str, Handler] = attrs.field(factory=dict)
    #: "kind.action" -> what a transition does beyond the state (a tracking's story).
    effects: Mapping[str, Hook] = attrs.field(factory=dict)
    #: kind -> the record's state when it is derived rather than a field.
    states: Mapping[str, Callable[[Mapping[str, Any]], str]] = attrs.field(factory=dict)


# --------------------------------------------------------------------------- the engine


def _store(call: Call, res: Resource) -> Collection:
    return call.state[res.kind]


def _missing(call: Call, res: Resource) -> Failure:
    return not_found(call.api, f"{res.schema} not found.", res.missing)


def find(call: Call, res: Resource) -> dict[str, Any]:
    """The record named by the call's path parameters (``id``, ``rma_number``...)."""
    store = _store(call, res)
    for param, field in res.keys.items():
        if param in call.params:
            wanted = call.params[param]
            if field == "id":
                found = store.get(wanted)
            else:
                found = next((r for r in store.items.values() if r.get(field) == wanted), None)
            if found is None:
                raise _missing(call, res)
            return found
    raise _missing(call, res)


def state_of(res: Resource, record: Mapping[str, Any], behaviour: Behaviour) -> str:
    reader = behaviour.states.get(res.kind)
    if reader is not None:
        return reader(record)
    return str(values(record, res.state)[0]) if res.state and values(record, res.state) else ""


def transition(
    call: Call, res: Resource, action: str, record: dict[str, Any], behaviour: Behaviour
) -> dict[str, Any]:
    """Move ``record`` along its lifecycle rule ``action``, or raise the rule's refusal."""
    rule = res.lifecycle[action]
    current = state_of(res, record, behaviour)
    if current not in rule.sources:
        code = rule.refused.get(current, rule.refused.get("*"))
        raise refused(call.api, code, state=current, target=rule.target, action=action,
                      sources=", ".join(sorted(rule.sources)), what=res.schema)  # fmt: skip
    count = (action, str(record.get("id")))
    if rule.limit is not None and call.state.transitions[count] >= rule.limit:
        raise refused(call.api, rule.over_limit, limit=rule.limit, action=action, what=res.schema)
    call.state.transitions[count] += 1
    if res.state:
        put(record, res.state, rule.target)
    if rule.stamp:
        record[rule.stamp] = iso(call.now)
    for name in rule.copy:
        record[name] = (call.body or {}).get(name)
    effect = behaviour.effects.get(f"{res.kind}.{action}")
    if effect is not None:
        effect(call, record)
    if "updated_at" in record:
        record["updated_at"] = iso(call.now)
    call.changed(res.kind, action, record)
    return record


_BEHAVIOURS: dict[str, Behaviour] = {}


def move(call: Call, kind: str, action: str, record: dict[str, Any]) -> dict[str, Any]:
    """Apply the lifecycle rule ``action`` of resource ``kind`` (for hooks and the clock)."""
    res = resources(call.spec)[kind]
    return transition(call, res, action, record, _BEHAVIOURS.get(call.api, Behaviour()))


def _located(call: Call, res: Resource, rule: Rule) -> dict[str, Any]:
    if rule.locate is None:
        return find(call, res)
    named = values(call.body, rule.locate)
    found = _store(call, res).get(str(named[0])) if named else None
    if found is None:
        raise _missing(call, res)
    return found


def _keyed(call: Call, res: Resource) -> Collection:
    """The resource's collection, indexed by its natural key."""
    store = _store(call, res)
    if store.key_fields != res.unique[0]:
        store.key_fields = res.unique[0]
        store.reindex()
    return store


def _unique(call: Call, res: Resource, record: Mapping[str, Any]) -> None:
    """Refuse a record whose natural key another record of its kind has."""
    fields, code = res.unique
    if code is None or not fields:
        return
    key = [record.get(name) for name in fields]
    if any(v in (None, "", {}) for v in key):
        return
    store = _keyed(call, res)
    owner = store.owner(record)
    if owner is not None and owner != record.get("id"):
        named = ", ".join(f"{n} {v!r}" for n, v in zip(fields, key, strict=True))
        raise refused(call.api, code, what=f"Duplicate {named}")


def _create(call: Call, res: Resource, hook: Hook | None) -> Any:
    spec = call.spec
    record = fresh(spec, res.schema, res.kind)
    record = overlay(spec, spec.schema(res.schema), record, call.body)
    record["id"] = call.state.new_id(res.kind)
    for stamp in ("created_at", "updated_at"):
        if stamp in record:
            record[stamp] = iso(call.now)
    for path, value in res.initial.items():
        put(record, path, value)
    answer = hook(call, record) if hook else None
    _unique(call, res, record)
    _store(call, res).add(str(record["id"]), record)
    call.state.stats.created[res.kind] += 1
    call.changed(res.kind, "created", record)
    return record if answer is None else answer


def _window(
    call: Call, res: Resource, data: dict[str, Any] | None = None
) -> Callable[[Mapping[str, Any]], bool]:
    taken = {p.name for p in call.op.params}
    checks = []
    for field, (low_param, high_param, span) in res.windows.items():
        if low_param not in taken:
            continue
        days = {"h": 1 / 24, "d": 1}[span[-1]] * int(span[:-1]) if span else None
        oldest = call.now - dt.timedelta(days=days) if days else None
        low = parse_time(call.params.get(low_param)) or oldest
        if low and oldest and span and span.endswith("d"):
            low = max(low, oldest)  # Returns keeps a year: the window never reaches further
        high = parse_time(call.params.get(high_param)) or (call.now if span else None)
        if data is not None:
            data[low_param] = call.params.get(low_param) or (iso(low) if low else None)
            data[high_param] = call.params.get(high_param) or (iso(high) if high else None)
        if low or high:
            checks.append((field, low, high))

    def inside(record: Mapping[str, Any]) -> bool:
        for field, low, high in checks:
            moment = parse_time(record.get(field))
            if moment is None or (low and moment < low) or (high and moment > high):
                return False
        return True

    return inside


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _listed(call: Call, res: Resource) -> Any:
    comma = {p.name for p in call.op.params if p.comma}
    wanted = {
        path: {v.strip() for v in str(call.params[param]).split(",")}
        if param in comma
        else {_text(call.params[param])}
        for param, path in res.filters.items()
        if param in call.params
    }
    searched = {
        paths: str(call.params[param]).lower()
        for param, paths in res.search.items()
        if call.params.get(param)
    }
    data: dict[str, Any] = {}
    inside = _window(call, res, data)

    plain = {p: a for p, a in wanted.items() if p.isidentifier()}  # top-level fields: fast
    nested = {p: a for p, a in wanted.items() if p not in plain}

    def keep(record: Mapping[str, Any]) -> bool:
        for path, allowed in plain.items():
            if _text(record.get(path)) not in allowed:
                return False
        for path, allowed in nested.items():
            if not {_text(v) for v in _follow(call, record, path)} & allowed:
                return False
        for paths, text in searched.items():
            found = [v for p in paths for v in values(record, p)]
            if not any(text in str(v).lower() for v in found):
                return False
        return inside(record)

    store = _keyed(call, res)
    first = store.key_fields[0] if store.key_fields else None
    among = None
    if first in plain:  # the natural key's first field is indexed (bulk lookups by number)
        among = {i for value in plain[first] for i in store.by_first.get(value, ())}
    selected = [(seq, r) for seq, r in store.newest_first(among) if keep(r)]
    style, items = call.op.paging or ("page", res.kind)
    page = PAGERS[style](call.api, items, selected, call.params)
    if any(p in call.op.data_properties for p in data):
        page.update(data)
    for param in (p for p in call.op.data_properties if p.startswith("created_at_")):
        page.setdefault(param, None)
    return page


def _follow(call: Call, record: Mapping[str, Any], path: str) -> list[Any]:
    """``values`` of a path, through a reference: ``label.id->label.shipper_account.id``."""
    if "->" not in path:
        return values(record, path)
    here, there = path.split("->")
    kind, _, rest = there.partition(".")
    targets = [call.state[kind].get(str(i)) for i in values(record, here)]
    return [v for t in targets if t is not None for v in values(t, rest)]


def _update(call: Call, res: Resource, hook: Hook | None) -> Any:
    record = find(call, res)
    schema = call.spec.schema(res.schema)
    changed = overlay(call.spec, schema, record, call.body)
    answer = hook(call, changed) if hook else None
    _unique(call, res, changed)
    if "updated_at" in changed:
        changed["updated_at"] = iso(call.now)
    key_changed = any(record.get(f) != changed.get(f) for f in res.unique[0])
    record.clear()
    record.update(changed)
    if key_changed:
        _store(call, res).reindex()
    call.changed(res.kind, "updated", record)
    return record if answer is None else answer


def _delete(call: Call, res: Resource, hook: Hook | None) -> Any:
    record = find(call, res)
    if hook:
        hook(call, record)
    _store(call, res).remove(str(record["id"]))
    schema = call.spec.resolve(call.op.data_schema)
    if schema is call.spec.schema(res.schema):
        return record
    return {k: record.get(k) for k in schema.get("properties", {})}


def build_handlers(spec: ApiSpec, behaviour: Behaviour) -> dict[str, Handler]:
    """One handler per operation of ``spec``: the engine's, the API's computing ones, a sample."""
    handlers: dict[str, Handler] = {}
    declared = resources(spec)
    _BEHAVIOURS[spec.name] = behaviour

    def with_transitions(op_id: str, then: Handler | None) -> Handler | None:
        rules = [
            (res, rule)
            for res in declared.values()
            for rule in res.lifecycle.values()
            if op_id in rule.operations
        ]
        if not rules:
            return then

        def handler(call: Call) -> Any:
            moved = [transition(call, r, rule.action, _located(call, r, rule), behaviour)
                     for r, rule in rules]  # fmt: skip
            return then(call) if then else moved[-1]

        return handler

    hooks = behaviour.hooks

    def bind(fn: Callable[[Call, Resource, Hook | None], Any], op: str, r: Resource) -> None:
        handlers[op] = lambda call: fn(call, r, hooks.get(op))

    for res in declared.values():
        for name in res.create:
            bind(_create, name, res)
        for name in res.read:
            bind(_read, name, res)
        if res.list:
            bind(_after_list, res.list, res)
        for name in res.update:
            bind(_update, name, res)
        if res.delete:
            bind(_delete, res.delete, res)
    for operation in spec.operations:
        op_id = operation.operation_id
        base = handlers.get(op_id) or behaviour.handlers.get(op_id)
        handlers[op_id] = with_transitions(op_id, base) or _sampled
    return handlers


def _read(call: Call, res: Resource, hook: Hook | None) -> Any:
    record = find(call, res)
    answer = hook(call, record) if hook else None
    return record if answer is None else answer


def _after_list(call: Call, res: Resource, hook: Hook | None) -> Any:
    page = _listed(call, res)
    answer = hook(call, page) if hook else None
    return page if answer is None else answer


def _sampled(call: Call) -> Any:
    """Spec-valid data for an operation nothing declares or computes."""
    return sample(call.spec, call.op.data_schema, call.op.operation_id)
