"""A fast webhook receiver for Scripts/bench-webhooks: HTTP/1.1 with keep-alive on 127.0.0.1, every POST answered
204 at once; the number of requests answered so far is written to COUNT_FILE every 100 ms.

    webhook_sink.py PORT COUNT_FILE
"""

import asyncio
import signal
import sys

count = 0


async def handle(reader, writer):
    global count
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:].strip())
            if length:
                await reader.readexactly(length)
            writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            count += 1
    except (asyncio.IncompleteReadError, ConnectionResetError):
        pass
    finally:
        writer.close()


async def report(path):
    while True:
        with open(path, "w") as out:
            out.write(str(count))
        await asyncio.sleep(0.1)


async def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    asyncio.create_task(report(path))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    # A process started from the Swift test runner inherits its blocked signals: unblock those that stop us.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    asyncio.run(main())
