"""The benchmark's load client: a separate process (no Django), N threads with keep-alive connections,
each sending the workload's requests for a fixed time. Prints one JSON object with the figures.

    python -m apps.benchmarks.loadclient --base http://127.0.0.1:PORT --token T --spec spec.json

``spec.json``: {"clients": 8, "seconds": 10, "warmup": 2, "requests": [[method, path, body-or-null], ...],
"mode": "cycle" | "once"}. "cycle": every thread walks the list round-robin from its own offset
(reads); "once": the threads take requests from one shared list, each sent once (creates of distinct
stays), until it is empty or the time is up.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit


def _percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    if len(samples) == 1:
        return {"p50_ms": samples[0], "p95_ms": samples[0], "p99_ms": samples[0]}
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50_ms": round(q[49], 2), "p95_ms": round(q[94], 2), "p99_ms": round(q[98], 2)}


def run(*, base: str, token: str, spec: dict) -> dict:
    parts = urlsplit(base)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Connection": "keep-alive"}
    requests_ = [tuple(r) for r in spec["requests"]]
    clients, seconds, warmup = int(spec["clients"]), float(spec["seconds"]), float(spec.get("warmup", 0))
    once = spec.get("mode") == "once"
    lock = threading.Lock()
    shared = list(reversed(requests_))
    samples: list[float] = []
    statuses: dict[str, int] = {}
    start_at = time.monotonic() + 0.2
    measure_from = start_at + (0 if once else warmup)
    stop_at = measure_from + seconds

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        mine: list[float] = []
        codes: dict[str, int] = {}
        i = index
        while time.monotonic() < start_at:
            time.sleep(0.001)
        while True:
            now = time.monotonic()
            if now >= stop_at:
                break
            if once:
                with lock:
                    if not shared:
                        break
                    method, path, body = shared.pop()
            else:
                method, path, body = requests_[i % len(requests_)]
                i += clients
            data = json.dumps(body).encode() if body is not None else None
            began = time.perf_counter()
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                response.read()
                code = str(response.status)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
                code = "error"
            took = (time.perf_counter() - began) * 1000
            if began >= measure_from:
                mine.append(took)
                codes[code] = codes.get(code, 0) + 1
        conn.close()
        with lock:
            samples.extend(mine)
            for k, v in codes.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = min(stop_at, time.monotonic()) - measure_from
    elapsed = max(elapsed, 1e-6)
    return {
        "req_per_s": round(len(samples) / elapsed, 1),
        **_percentiles(samples),
        "requests": len(samples),
        "seconds": round(elapsed, 2),
        "clients": clients,
        "statuses": statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--spec", required=True)
    args = parser.parse_args()
    with open(args.spec) as f:
        spec = json.load(f)
    sys.stdout.write(json.dumps(run(base=args.base, token=args.token, spec=spec)) + "\n")


if __name__ == "__main__":
    main()
