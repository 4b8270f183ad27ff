"""Paging names come from the spec: the runtime has one engine per style and names no field.

Every ``iter_*`` method passes its operation's generated :class:`PageRule` (from
the spec's ``x-pagination``); ``aftership_async/_pagination.py`` sends and reads
only the names the rule holds.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from aftership_async import InvalidResponseError
from aftership_async._pagination import PageRule, paginate
from aftership_async._transport import RequestOptions

from .specdata import ROOT


def _paged_operations() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    found = []
    for api in ("tracking", "shipping", "returns"):
        doc = yaml.safe_load((ROOT / "spec" / f"{api}.yaml").read_text(encoding="utf-8"))
        for item in doc["paths"].values():
            for op in item.values():
                if isinstance(op, dict) and "x-pagination" in op:
                    found.append((api, op["operationId"], op["x-pagination"], op))
    return found


PAGED = _paged_operations()


def test_every_list_operation_of_the_specs_is_covered() -> None:
    assert {api for api, *_ in PAGED} == {"tracking", "shipping", "returns"}
    assert {block["style"] for _, _, block, _ in PAGED} == {"cursor", "next_token", "page"}


@pytest.mark.parametrize(
    ("api", "op_id", "block", "op"), PAGED, ids=[f"{a}.{o}" for a, o, _, _ in PAGED]
)
def test_the_generated_rule_is_the_specs_block(
    api: str, op_id: str, block: dict[str, Any], op: dict[str, Any]
) -> None:
    module = importlib.import_module(f"aftership_async._generated.{api}.api")
    rule = getattr(module, f"{op_id.upper()}_PAGES")
    assert isinstance(rule, PageRule)
    assert (rule.style, rule.items) == (block["style"], block["items"])
    query = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
    assert block["request"] in query and rule.request == block["request"]
    assert rule.next == tuple(block.get("next", "").split(".") if "next" in block else ())
    assert rule.has_more == tuple(block["has-more"].split(".") if "has-more" in block else ())


def test_the_paging_engine_names_no_field_of_any_api() -> None:
    names = {"pagination", "next_cursor", "has_next_page", "limit"}
    for _, _, block, _ in PAGED:
        names |= {block["items"], block["request"]}
        names |= set(block.get("next", "").split(".")) | set(block.get("has-more", "").split("."))
    names -= {"", "cursor", "next_token", "page"}  # the style names themselves
    tree = ast.parse((ROOT / "aftership_async" / "_pagination.py").read_text(encoding="utf-8"))
    constants = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert not constants & names, constants & names


def _page(**fields: Any) -> SimpleNamespace:
    return SimpleNamespace(**fields)


class Pages:
    """A list method over scripted pages, recording the keywords of each call."""

    def __init__(self, pages: Mapping[object, SimpleNamespace]) -> None:
        self.pages = pages
        self.calls: list[dict[str, object]] = []

    async def __call__(self, *, options: RequestOptions | None = None, **kwargs: object) -> Any:
        self.calls.append(kwargs)
        return self.pages[kwargs.get("after", kwargs.get("at"))]


async def _all(fetch: Pages, rule: PageRule, **params: object) -> list[Any]:
    return [item async for item in paginate(fetch, rule=rule, params=params)]


async def test_a_cursor_rule_with_other_names_is_followed() -> None:
    rule = PageRule("cursor", items="rows", request="after", next=("meta", "more"),
                    has_more=("meta", "again"))  # fmt: skip
    fetch = Pages({
        None: _page(rows=[1, 2], meta=_page(more="c2", again=True)),
        "c2": _page(rows=[3], meta=_page(more="c3", again=False)),  # stops: no more
    })  # fmt: skip
    assert await _all(fetch, rule, q="x") == [1, 2, 3]
    assert fetch.calls == [{"q": "x"}, {"q": "x", "after": "c2"}]


async def test_a_token_rule_stops_without_a_token_and_refuses_a_repeat() -> None:
    rule = PageRule("next_token", items="rows", request="after", next=("token",))
    fetch = Pages({None: _page(rows=[1], token="t1"), "t1": _page(rows=[2], token=None)})
    assert await _all(fetch, rule) == [1, 2]
    looping = Pages({None: _page(rows=[1], token="t1"), "t1": _page(rows=[2], token="t1")})
    with pytest.raises(InvalidResponseError, match="repeated the page token"):
        await _all(looping, rule)


async def test_a_page_rule_counts_pages_in_its_own_parameter() -> None:
    rule = PageRule("page", items="rows", request="at", has_more=("info", "more"))
    fetch = Pages(
        {1: _page(rows=[1], info=_page(more=True)), 2: _page(rows=[2], info=_page(more=False))}
    )
    assert await _all(fetch, rule, limit=5) == [1, 2]
    assert fetch.calls == [{"limit": 5, "at": 1}, {"limit": 5, "at": 2}]


async def test_leaving_the_loop_early_fetches_no_more_pages() -> None:
    rule = PageRule("page", items="rows", request="at", has_more=("info", "more"))
    fetch = Pages({n: _page(rows=[n], info=_page(more=True)) for n in range(1, 5)})
    iterator = paginate(fetch, rule=rule, params={})
    async for item in iterator:
        assert item == 1
        break
    await iterator.aclose()  # type: ignore[attr-defined]
    assert len(fetch.calls) == 1


def test_a_rule_without_its_styles_names_is_refused() -> None:
    with pytest.raises(ValueError, match="needs has_more"):
        PageRule("page", items="rows", request="at")
    with pytest.raises(ValueError, match="needs next"):
        PageRule("cursor", items="rows", request="after")
