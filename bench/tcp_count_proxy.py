#!/usr/bin/env python3
"""tcp_count_proxy: a loopback TCP relay that counts the bytes each way.

Used by bench_sync_vs_pouchdb.sh to measure bytes on the wire for both sync
implementations the same way: every byte of every TCP connection (HTTP
headers and bodies, as the client and server send them) is counted once, at
the moment it is relayed.

usage: tcp_count_proxy.py LISTEN_PORT TARGET_PORT STATS_FILE

Listens on 127.0.0.1:LISTEN_PORT and relays to 127.0.0.1:TARGET_PORT. It
writes "ready" to STATS_FILE.ready once listening. On SIGUSR1 it appends one
JSON line to STATS_FILE, {"up": client-to-server bytes, "down":
server-to-client bytes, "connections": connections accepted}, counted since
the previous SIGUSR1 (or the start), and resets the counters. SIGTERM or
SIGINT stops it. Only loopback addresses are ever used.
"""
import asyncio
import json
import signal
import sys

counts = {"up": 0, "down": 0, "connections": 0}


async def pipe(reader, writer, key):
    try:
        while True:
            data = await reader.read(262144)
            if not data:
                break
            counts[key] += len(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(creader, cwriter, target_port):
    counts["connections"] += 1
    try:
        sreader, swriter = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        cwriter.close()
        return
    await asyncio.gather(pipe(creader, swriter, "up"), pipe(sreader, cwriter, "down"))


def dump(stats_file):
    with open(stats_file, "a", encoding="utf-8") as f:
        f.write(json.dumps(counts) + "\n")
    for k in counts:
        counts[k] = 0


async def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    listen_port, target_port, stats_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGUSR1, dump, stats_file)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    server = await asyncio.start_server(lambda r, w: handle(r, w, target_port), "127.0.0.1", listen_port)
    with open(stats_file + ".ready", "w", encoding="utf-8") as f:
        f.write("ready\n")
    async with server:
        await stop


if __name__ == "__main__":
    asyncio.run(main())
