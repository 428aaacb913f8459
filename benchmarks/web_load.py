"""Load on the browser tabletop: many seats following the event stream while the facilitator advances.

What is measured
----------------
A real ``coopsim serve`` process (the Somalia scenario, five organisations
seated) is started on a free localhost port. ``--clients`` simulated seats
(default 30, spread over the seat addresses as several players per
organisation would be) each follow ``/TOKEN/events`` with httpx, exactly as
the page's script does, and on every update fetch their panel. The
facilitator advances the clock six hours at a time, once a second, for
``--minutes`` (taking any decision that comes up for its seat), and notes the
room's version each advance produced.

Printed, from one run:

* **update latency**: for each advance and each client, the time from the
  facilitator sending the advance to that client holding the new panel;
  median, p95 and max (goal: p95 under 500 ms);
* **errors**: failed requests or broken streams (goal: none);
* **server memory**: its resident size sampled every second, first and peak
  (goal: flat).

These are timings on a shared machine: read them as one run's figures, not a
test. ``--quick`` runs 30 seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

SEATS = "wfp,snmg2,un_eosg,au_amisom,nac"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def follow(client: httpx.AsyncClient, url: str, seen: dict[int, list[float]], errors: list[str], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            async with client.stream("GET", url + "events", timeout=None) as r:
                async for line in r.aiter_lines():
                    if stop.is_set():
                        return
                    if line.startswith("data: "):
                        version = int(line[6:])
                        panel = await client.get(url + "panel")
                        if panel.status_code != 200:
                            errors.append(f"panel {panel.status_code}")
                        seen.setdefault(version, []).append(time.perf_counter())
        except (httpx.HTTPError, ValueError) as exc:
            if not stop.is_set():
                errors.append(type(exc).__name__)
                await asyncio.sleep(0.2)


async def facilitate(client: httpx.AsyncClient, url: str, seconds: float, sent: dict[int, float], errors: list[str]) -> int:
    page = (await client.get(url)).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    t, moves, end = 0, 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        pending = re.search(r'name="point" value="([^"]+)"', page)
        started = time.perf_counter()
        try:
            if pending:
                option = re.search(r'name="option" value="([^"]+)"', page).group(1)
                data = {"csrf": csrf, "point": pending.group(1), "option": option, "rationale": "load test", "by": "bench"}
                r = await client.post(url + "do/decide", data=data, follow_redirects=True)
            else:
                t += 6
                r = await client.post(url + "do/advance", data={"csrf": csrf, "to": f"{t}h"}, follow_redirects=True)
        except httpx.HTTPError as exc:
            errors.append(f"facilitator {type(exc).__name__} at {t} h")
            page = (await client.get(url)).text
            continue
        if r.status_code != 200:
            errors.append(f"advance {r.status_code}")
        page = r.text
        found = re.search(r'id="panel" data-version="(\d+)"', page)
        if found:
            sent[int(found.group(1))] = started
        moves += 1
        if "The scenario has reached its end" in page:
            break
        await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))
    return moves


async def main_async(args) -> None:
    with TemporaryDirectory() as tmp, open(Path(tmp) / "stderr.txt", "w+") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "coopsim", "serve", "somalia-wfp-escort-2008", "--as", SEATS, "--port", "0",
             "--session", str(Path(tmp) / "s.yaml"), "--out", str(Path(tmp) / "out"), "-n", "0"],
            stdout=subprocess.PIPE, stderr=stderr, text=True,  # a file, not a pipe nobody reads while it runs
        )  # fmt: skip
        urls = {}
        while len(urls) < 2 + len(SEATS.split(",")):
            label, _, url = server.stdout.readline().strip().partition(": ")
            urls[label] = url
        seats = [u for label, u in urls.items() if label.startswith("seat ")]
        memory = [rss_mb(server.pid)]
        seen: dict[int, list[float]] = {}
        sent: dict[int, float] = {}
        errors: list[str] = []
        stop = asyncio.Event()
        limits = httpx.Limits(max_connections=args.clients * 2 + 10)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            followers = [asyncio.create_task(follow(client, seats[i % len(seats)], seen, errors, stop)) for i in range(args.clients)]

            async def sample():
                while not stop.is_set():
                    memory.append(rss_mb(server.pid))
                    await asyncio.sleep(1)

            sampler = asyncio.create_task(sample())
            await asyncio.sleep(2)  # every follower connected
            moves = await facilitate(client, urls["facilitator"], args.minutes * 60, sent, errors)
            await asyncio.sleep(2)  # the last updates arrive
            stop.set()
            for task in [*followers, sampler]:
                task.cancel()
            await asyncio.gather(*followers, sampler, return_exceptions=True)
        server.terminate()
        server.wait(timeout=30)
        stderr.seek(0)
        trouble = stderr.read().strip()
        if trouble:
            print("server stderr:\n" + trouble[-3000:])
    latencies = [1000 * (t - sent[v]) for v, times in seen.items() if v in sent for t in times]
    delivered = sum(1 for v in sent if len(seen.get(v, ())) >= args.clients)
    latencies.sort()
    print(f"web load: {args.clients} seats following the event stream, {moves} facilitator moves in {args.minutes:g} min")
    if latencies:
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(f"  update latency (advance sent -> seat holds the new panel): median {statistics.median(latencies):.0f} ms, "
              f"p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms over {len(latencies)} updates (goal: p95 < 500 ms)")  # fmt: skip
    print(f"  moves seen by every seat: {delivered} of {len(sent)}")
    print(f"  errors: {len(errors)}" + (f" ({', '.join(sorted(set(errors)))})" if errors else "") + " (goal: none)")
    print(f"  server memory: {memory[0]:.0f} MB at start, peak {max(memory):.0f} MB, last {memory[-1]:.0f} MB (goal: flat)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--quick", action="store_true", help="30 seconds")
    args = parser.parse_args()
    if args.quick:
        args.minutes = 0.5
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
