"""The README's bulk example, as a complete program (type-checked, not run).

``if result.ok:`` narrows a ``BulkResult`` to ``BulkSuccess``: ``result.value`` is a
``Tracking`` there, with no ``assert`` or cast. ``async with`` a run keeps its type.
"""

import asyncio

from aftership_async import AfterShip, TrackingInput


async def main(numbers: list[TrackingInput]) -> None:
    async with AfterShip(api_key="...") as client:
        async for result in client.bulk.get_or_create(numbers, concurrency=32):
            if result.ok:
                print(result.index, result.value.tag, "created" if result.created else "found")
            else:
                print(result.index, type(result.error).__name__, result.error)

        async with client.bulk.lookup(numbers_only(numbers)) as run:
            async for found in run:
                if not found.ok:
                    break
                print(found.value.tracking_number)
        print(run.stats.cancelled)


def numbers_only(items: list[TrackingInput]) -> list[str]:
    return [item for item in items if isinstance(item, str)]


asyncio.run(main(["1Z999AA10123456784", "123456789012"]))
