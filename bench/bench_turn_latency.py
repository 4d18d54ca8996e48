"""Benchmark: one turn through Rasa's REST webhook, with and without a database action.

Starts a Rasa server and an action server on loopback (bench/_stack.py) over a temporary SQLite
database seeded with the demo customers, or uses running ones (--rasa-url). One user, turns sent
one after the other:

- baseline: "你好" (greet → utter_greet, no custom action);
- action turns: a verified customer (张伟, motor policy with a claim) asks for the policy card
  and the claim status (query_policy / ask_claim_status → action_handle_request →
  identity check + database look-up).

Prints p50/p95 of both, the p95 ratio, and whether the action turn's p95 is within 300 ms.

    .venv/bin/python bench/bench_turn_latency.py [--model models] [--turns 60] [--rasa-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import SECRET_HEADER, dialogue_stack
from bot.seeding.demo import ZHANG_WEI

TARGET_P95_MS = 300.0
ACTION_TURNS = [("帮我查一下我的保单", "保单号"), ("我的理赔进度怎么样了", "理赔案号")]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def send(client: httpx.Client, url: str, sender: str, text: str) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    resp = client.post(url, json={"sender": sender, "message": text})
    elapsed = (time.perf_counter() - start) * 1000
    resp.raise_for_status()
    return elapsed, resp.json()


def joined(replies: list[dict]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


def run(webhook: str, turns: int, headers: dict[str, str]) -> int:
    with httpx.Client(timeout=30, headers=headers) as client:
        greet_sender = f"web:bench-greet-{uuid.uuid4().hex[:8]}"
        action_sender = f"web:bench-action-{uuid.uuid4().hex[:8]}"
        # Verify the action user once (policy number, name, last six of the ID).
        for text in ("帮我查一下我的保单", ZHANG_WEI.policies[1].number, ZHANG_WEI.name, ZHANG_WEI.id_last6):
            _, replies = send(client, webhook, action_sender, text)
        if "保单号" not in joined(replies):
            print("verification did not lead to the policy card; last replies:\n" + joined(replies))
            return 2
        for _ in range(5):  # warm-up
            send(client, webhook, greet_sender, "你好")
            send(client, webhook, action_sender, ACTION_TURNS[0][0])

        greet_ms: list[float] = []
        action_ms: list[float] = []
        for i in range(turns):
            ms, replies = send(client, webhook, greet_sender, "你好")
            greet_ms.append(ms)
            text, expected = ACTION_TURNS[i % len(ACTION_TURNS)]
            ms, replies = send(client, webhook, action_sender, text)
            if expected not in joined(replies):
                print(f"unexpected reply to {text!r}:\n{joined(replies)}")
                return 2
            action_ms.append(ms)

    g50, g95 = percentile(greet_ms, 50), percentile(greet_ms, 95)
    a50, a95 = percentile(action_ms, 50), percentile(action_ms, 95)
    print(f"turns per kind: {turns} (single user, sequential, REST webhook)")
    gm, am = statistics.mean(greet_ms), statistics.mean(action_ms)
    print(f"no action (greet)            p50 {g50:7.1f} ms   p95 {g95:7.1f} ms   mean {gm:7.1f} ms")
    print(f"database action (verified)   p50 {a50:7.1f} ms   p95 {a95:7.1f} ms   mean {am:7.1f} ms")
    print(f"ratio action/no-action       p50 {a50 / g50:5.2f}x     p95 {a95 / g95:5.2f}x")
    ok = a95 <= TARGET_P95_MS
    print(f"target: action-turn p95 <= {TARGET_P95_MS:.0f} ms -> {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models", help="model file or folder (default: models)")
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--rasa-url", help="use a running Rasa server (with its action server) instead")
    args = parser.parse_args()
    if args.rasa_url:
        # the running stack's REST channel wants the app's secret (BOT_RASA_TOKEN from .env)
        headers = {SECRET_HEADER: os.environ.get("BOT_RASA_TOKEN", "")}
        return run(args.rasa_url.rstrip("/") + "/webhooks/rest/webhook", args.turns, headers)
    with dialogue_stack(model=args.model) as stack:
        return run(stack.webhook, args.turns, stack.headers)


if __name__ == "__main__":
    sys.exit(main())
