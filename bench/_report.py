"""The targets of issue #6 checked against a run, and the markdown tables."""

from __future__ import annotations

from typing import Any

__all__ = ["markdown", "targets"]


def _by(rows: list[dict[str, Any]], client: str, concurrency: int) -> dict[str, Any] | None:
    for row in rows:
        if row["client"] == client and row["concurrency"] == concurrency:
            return row
    return None


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its measured figure and whether it was met."""
    found: list[dict[str, Any]] = []

    def add(name: str, goal: str, measured: float | None, met: bool | None) -> None:
        found.append({"target": name, "goal": goal, "measured": measured, "met": met})

    rows = results.get("bulk_get", [])
    for concurrency in sorted({row["concurrency"] for row in rows}):
        ours = _by(rows, "ours", concurrency)
        official = _by(rows, "official", concurrency)
        if ours is None:
            continue
        ideal = ours["ratio_to_ideal"]
        add(f"(a) ours vs ideal, c={concurrency}", ">= 0.95", ideal, ideal >= 0.95)
        if official is not None:
            ratio = round(ours["throughput_rps"] / official["throughput_rps"], 2)
            add(f"(a) ours vs official SDK, c={concurrency}", ">= 5x", ratio, ratio >= 5.0)
    zero = results.get("zero_latency", [])
    if zero:
        concurrency = zero[0]["concurrency"]
        ours, bare = _by(zero, "ours", concurrency), _by(zero, "aiohttp", concurrency)
        if ours and bare:
            ratio = round(ours["cpu_us_per_request"] / bare["cpu_us_per_request"], 2)
            add("(b) CPU/request, ours / bare aiohttp", "<= 1.2x", ratio, ratio <= 1.2)
    decode = results.get("decode_us")
    if decode:
        ratio = round(decode["ours"] / decode["official"], 2)
        add("(c) decode time, ours / official", "<= 1.0x", ratio, ratio <= 1.0)
    limited = results.get("rate_limited")
    if limited:
        ratio = limited["ratio_to_limit"]
        add("(d) achieved / limit", ">= 0.97", ratio, ratio >= 0.97)
        add("(d) 429s", "0", limited["http_429"], limited["http_429"] == 0)
    memory = results.get("memory")
    if memory:
        growth = memory["peak_rss_growth_mb"]
        add(f"(e) peak RSS growth, {memory['lookups']} lookups", "< 50 MB", growth, growth < 50)
    return found


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _table(columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> str:
    """A markdown table; ``columns`` are (heading, key) pairs."""
    lines = [
        "| " + " | ".join(heading for heading, _ in columns) + " |",
        "|" + "---|" * len(columns),
    ]
    lines += ["| " + " | ".join(_cell(row.get(key)) for _, key in columns) + " |" for row in rows]
    return "\n".join(lines)


RUN_COLUMNS = [
    ("client", "client"),
    ("conc.", "concurrency"),
    ("req/s", "throughput_rps"),
    ("p50 ms", "p50_ms"),
    ("p99 ms", "p99_ms"),
    ("CPU s / 1k req", "cpu_s_per_1000"),
    ("÷ aiohttp", "ratio_to_aiohttp"),
    ("÷ ideal", "ratio_to_ideal"),
    ("errors", "errors"),
]
DECODE_COLUMNS = [
    ("json.loads only", "json.loads"),
    ("ours (attrs + cattrs)", "ours"),
    ("official (pydantic)", "official"),
]
RATE_COLUMNS = [
    ("limit req/s", "limit_rps"),
    ("requests", "requests"),
    ("achieved req/s", "achieved_rps"),
    ("÷ limit", "ratio_to_limit"),
    ("busiest wall second", "busiest_second"),
    ("429s", "http_429"),
    ("retries", "retries"),
    ("errors", "errors"),
]
MEMORY_COLUMNS = [
    ("lookups", "lookups"),
    ("requests", "requests"),
    ("wall s", "wall_s"),
    ("baseline RSS MB", "baseline_rss_mb"),
    ("peak RSS growth MB", "peak_rss_growth_mb"),
]
SHARED_COLUMNS = [
    ("limiter", "limiter"),
    ("processes", "processes"),
    ("requests", "requests"),
    ("ok", "ok"),
    ("429s", "http_429"),
    ("retries", "retries"),
    ("errors", "errors"),
    ("wall s", "wall_s"),
    ("interior s", "interior_seconds"),
    ("req/s ÷ limit, interior", "interior_ratio_to_limit"),
]
TARGET_COLUMNS = [("target", "target"), ("goal", "goal"), ("measured", "measured"), ("met", "met")]


def markdown(results: dict[str, Any]) -> str:
    """The whole run as markdown: machine, one table per scenario, targets."""
    machine = results["machine"]
    params = results["params"]
    parts = [
        f"Run {results['date']} with `{results['command']}` on {machine['cpu']} "
        f"({machine['cores']} cores), Python {machine['python']}, {machine['os']}.",
    ]
    if params.get("quick"):
        parts.append("**Quick smoke run: tiny numbers, the figures mean nothing.**")
    if "bulk_get" in results:
        parts += [
            f"**(a) bulk GET**: {params['n']} trackings, {params['latency_ms']:g} ms server "
            "latency, rate limit off. Ideal = concurrency ÷ latency.",
            _table(RUN_COLUMNS, results["bulk_get"]),
        ]
    if "zero_latency" in results:
        parts += [
            f"**(b) zero latency**: {params['n']} trackings; client CPU per request.",
            _table(RUN_COLUMNS, results["zero_latency"]),
        ]
    if "decode_us" in results:
        parts += [
            "**(c) decoding** one tracking with 50 checkpoints from bytes, µs per object:",
            _table(DECODE_COLUMNS, [results["decode_us"]]),
        ]
    if "rate_limited" in results:
        parts += [
            "**(d) rate limited**: client and server both at the limit.",
            _table(RATE_COLUMNS, [results["rate_limited"]]),
        ]
    if "memory" in results:
        parts += [
            "**(e) memory**: streamed `client.bulk.lookup` of generated numbers.",
            _table(MEMORY_COLUMNS, [results["memory"]]),
        ]
    shared = results.get("shared_budget")
    if shared:
        intro = "**(f) many workers, one budget**"
        if "skipped" in shared:
            parts.append(f"{intro}: skipped, {shared['skipped']}.")
        else:
            parts += [
                f"{intro}: {shared['processes']} processes x {shared['requests_each']} "
                f"`create_tracking` on one endpoint, server and limiters at "
                f"{shared['limit_rps']:g} req/s; interior = the run's whole seconds but "
                "its first and last.",
                _table(SHARED_COLUMNS, shared["rows"]),
            ]
    met = [{**t, "met": "yes" if t["met"] else "**no**"} for t in results["targets"]]
    parts += ["**Targets**", _table(TARGET_COLUMNS, met)]
    return "\n\n".join(parts) + "\n"
