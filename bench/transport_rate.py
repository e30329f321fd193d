"""Messages per second through the Twilio transport, against the fake Twilio API in its own process.

    python bench/transport_rate.py [--messages 5000] [--runs 3]

Prints two figures: ``TwilioTransport.send_many`` at its default concurrency, and the bare twilio-python async
client (``create_async`` with its stock ``AsyncTwilioHttpClient``) at the best of a few concurrencies: the
reference our transport must stay close to (it goes through the same ``create_async``, with an HTTP client of
its own underneath, and uses much less CPU per message). Also the one-at-a-time ``send`` rate, for scale. Everything runs on
loopback, so these are the client's costs, not Twilio's (real Twilio adds ~100-300 ms of latency per request,
which concurrency hides, and an account-wide concurrency limit, which it does not).

Each figure comes with the client's CPU time per message (this process, all threads): on a busy machine the
wall-clock rate swings with whatever else runs, the CPU cost much less; 1e6 / (µs per message) is the rate
one free core would allow.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SENDER = "+15005550006"
BODY = "Rally at 7pm, see you there!"
BARE_CONCURRENCIES = (10, 25, 50, 100, 200)


def _numbers(count: int) -> list[str]:
    return [f"+1202555{100 + i % 100:04d}" for i in range(count)]  # fictional: +1 202 555 0100..0199


def _best_of(runs: int, count: int, run: Callable[[], None]) -> tuple[float, float]:
    """(messages per second, client CPU microseconds per message) of the fastest of ``runs`` runs."""
    best = (0.0, 0.0)
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        rate = count / (time.perf_counter() - wall)
        if rate > best[0]:
            best = (rate, (time.process_time() - cpu) / count * 1e6)
    return best


class _SendMany:
    """One warm TwilioTransport, so that rounds can alternate with the bare client's."""

    def __init__(self, fake: Any, count: int, concurrency: int) -> None:
        from messaging.twilio.transport import OutboundSms, TwilioTransport

        self.fake, self.count, self.concurrency = fake, count, concurrency
        self.transport = TwilioTransport(
            account_sid=fake.account_sid, auth_token=fake.auth_token, base_url=fake.base_url
        )
        self.messages = [
            OutboundSms(to=to, from_=SENDER, body=BODY, reference=str(i))
            for i, to in enumerate(_numbers(count))
        ]
        self.transport.send_many(
            self.messages[:200], concurrency=concurrency
        )  # warm up: connections, imports
        fake.clear()

    def run(self) -> None:
        results = self.transport.send_many(self.messages, concurrency=self.concurrency)
        assert all(result.ok for result in results), "the fake refused messages"
        self.fake.clear()

    def close(self) -> None:
        self.transport.close()


def bench_send(fake: Any, count: int) -> tuple[float, float]:
    from messaging.twilio.transport import OutboundSms, TwilioTransport

    transport = TwilioTransport(
        account_sid=fake.account_sid, auth_token=fake.auth_token, base_url=fake.base_url
    )
    messages = [OutboundSms(to=to, from_=SENDER, body=BODY) for to in _numbers(count)]

    def run() -> None:
        for sms in messages:
            assert transport.send(sms).ok
        fake.clear()

    try:
        transport.send(messages[0])
        return _best_of(1, count, run)
    finally:
        transport.close()


def bench_bare(fake: Any, count: int, runs: int, concurrency: int) -> tuple[float, float]:
    """The stock client, as its README shows it, aimed at the fake with ``client.api.base_url``."""
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

    async def send_all(client: Client, numbers: list[str]) -> None:
        limit = asyncio.Semaphore(concurrency)

        async def one(to: str) -> None:
            async with limit:
                await client.messages.create_async(to=to, from_=SENDER, body=BODY)

        await asyncio.gather(*(one(to) for to in numbers))

    async def main() -> tuple[float, float]:
        http_client = AsyncTwilioHttpClient()  # its aiohttp session must be created inside a running loop
        client = Client(fake.account_sid, fake.auth_token, http_client=http_client, environment={"_": ""})
        client.api.base_url = fake.base_url
        numbers = _numbers(count)
        try:
            await send_all(client, numbers[:200])
            best = (0.0, 0.0)
            for _ in range(runs):
                wall, cpu = time.perf_counter(), time.process_time()
                await send_all(client, numbers)
                rate = count / (time.perf_counter() - wall)
                if rate > best[0]:
                    best = (rate, (time.process_time() - cpu) / count * 1e6)
                fake.clear()
            return best
        finally:
            await http_client.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # aiohttp 3.14 deprecates twilio's BasicAuth
        return asyncio.run(main())


def _bare_child(
    account_sid: str,
    auth_token: str,
    base_url: str,
    count: int,
    concurrency: int,
    ready: Any,
    go: Any,
    out: Any,
) -> None:
    """One process of ``bench_bare_processes``: warm up, wait for the others, send ``count``, report."""
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

    async def main() -> tuple[float, float]:
        http_client = AsyncTwilioHttpClient()
        client = Client(account_sid, auth_token, http_client=http_client, environment={"_": ""})
        client.api.base_url = base_url
        limit = asyncio.Semaphore(concurrency)

        async def one(to: str) -> None:
            async with limit:
                await client.messages.create_async(to=to, from_=SENDER, body=BODY)

        try:
            await asyncio.gather(*(one(to) for to in _numbers(200)))
            ready.set()
            await asyncio.get_running_loop().run_in_executor(None, go.wait)
            started = time.perf_counter()  # CLOCK_MONOTONIC: comparable across processes on Linux
            await asyncio.gather(*(one(to) for to in _numbers(count)))
            return started, time.perf_counter()
        finally:
            await http_client.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        out.put(asyncio.run(main()))


def bench_bare_processes(fake: Any, count: int, concurrency: int, processes: int) -> float:
    """The stock client (as in ``bench_bare``) in ``processes`` processes at once, ``count`` messages each:
    messages per second from the first start to the last finish."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited loop or connections
    go, out = context.Event(), context.Queue()
    readies = [context.Event() for _ in range(processes)]
    children = [
        context.Process(
            target=_bare_child,
            args=(fake.account_sid, fake.auth_token, fake.base_url, count, concurrency, ready, go, out),
        )
        for ready in readies
    ]
    for child in children:
        child.start()
    for ready in readies:
        ready.wait(timeout=60)
    go.set()
    spans = [out.get(timeout=300) for _ in children]
    for child in children:
        child.join()
    fake.clear()
    return processes * count / (max(end for _, end in spans) - min(start for start, _ in spans))


def measure(*, messages: int = 3000, runs: int = 3, concurrency: int | None = None) -> dict[str, Any]:
    """The figures, for ``make bench`` to fold in: rates in messages/s, CPU in µs per message.

    The bare client's best concurrency is found first; then rounds alternate between it and send_many, so
    that whatever else the machine is doing weighs on both alike. Each figure is the best round's.
    """
    from messaging.twilio.transport import DEFAULT_CONCURRENCY
    from tests.fake_twilio import FakeTwilioProcess

    concurrency = concurrency or DEFAULT_CONCURRENCY
    with FakeTwilioProcess() as fake:
        sweep = {c: bench_bare(fake, messages, 1, c) for c in BARE_CONCURRENCIES}
        best = max(sweep, key=lambda c: sweep[c][0])
        send_many = _SendMany(fake, messages, concurrency)
        many, bare = (0.0, 0.0), sweep[best]
        try:
            for _ in range(runs):
                many = max(many, _best_of(1, messages, send_many.run))
                bare = max(bare, bench_bare(fake, messages, 1, best))
        finally:
            send_many.close()
        one = bench_send(fake, min(messages, 1000))
    return {
        "send_many_concurrency": concurrency,
        "send_many_rate": many[0],
        "send_many_cpu_us": many[1],
        "bare_best_concurrency": best,
        "bare_rate": bare[0],
        "bare_cpu_us": bare[1],
        "bare_rate_by_concurrency": {c: rate for c, (rate, _) in sweep.items()},
        "send_rate": one[0],
        "send_cpu_us": one[1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="send_many concurrency (default: its own)"
    )
    args = parser.parse_args()

    figures = measure(messages=args.messages, runs=args.runs, concurrency=args.concurrency)
    sweep = ", ".join(f"{c}: {rate:,.0f}" for c, rate in figures["bare_rate_by_concurrency"].items())
    print(
        f"transport.send_many (concurrency {figures['send_many_concurrency']}): "
        f"{figures['send_many_rate']:,.0f} messages/s, {figures['send_many_cpu_us']:,.0f} µs CPU/message"
    )
    print(
        f"bare twilio async client (best at concurrency {figures['bare_best_concurrency']}): "
        f"{figures['bare_rate']:,.0f} messages/s, {figures['bare_cpu_us']:,.0f} µs CPU/message"
        f"  [messages/s by concurrency: {sweep}]"
    )
    print(
        f"transport.send, one at a time: {figures['send_rate']:,.0f} messages/s, "
        f"{figures['send_cpu_us']:,.0f} µs CPU/message"
    )


if __name__ == "__main__":
    main()
