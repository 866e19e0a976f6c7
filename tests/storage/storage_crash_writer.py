"""Child process for the crash test: writes pieces and jobs forever, printing each id once
its write has returned. The parent SIGKILLs it at random moments."""

from __future__ import annotations

import asyncio
import sys

from storage import NewComposition, NewJob, StoredFile, open_database


async def writer(db, lane: int) -> None:  # type: ignore[no-untyped-def]
    i = 0
    while True:
        piece = await db.compositions.add(
            NewComposition(
                owner_id=1 + lane,
                prompt=f"crash lane {lane} #{i}",
                request={"lane": lane, "i": i, "pad": "x" * 2000},
                files=(StoredFile("midi", f"artifacts/{lane}/{i}.mid", f"{lane:x}".rjust(64, "0"), i),),
                guild_id=10,
            )
        )
        print(f"c {piece.id}", flush=True)
        job = await db.jobs.enqueue(NewJob(requester_id=1 + lane, payload={"lane": lane, "i": i}))
        print(f"j {job.id}", flush=True)
        if i % 2 == 0 and (claimed := await db.jobs.claim_next()) is not None:
            await db.jobs.complete(claimed.id, composition_id=piece.id)
            print(f"d {claimed.id}", flush=True)
        i += 1


async def main(path: str) -> None:
    async with open_database(path) as db:
        print("ready", flush=True)
        await asyncio.gather(*(writer(db, lane) for lane in range(3)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
