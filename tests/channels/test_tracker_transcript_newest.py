"""The desk transcript read from Rasa's tracker store shows the newest messages (issue 12, item 13),
oldest first."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from bot.channels.tracker_transcripts import transcript


def _tracker(path: Path, sender: str, n: int) -> str:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp REAL, "
        "intent_name TEXT, action_name TEXT, data TEXT)"
    )
    rows = []
    for i in range(n):
        kind = "user" if i % 2 == 0 else "bot"
        rows.append((sender, kind, 1_700_000_000 + i, "inform" if kind == "user" else None,
                     json.dumps({"text": f"第{i}条"})))  # fmt: skip
    rows.append(("someone-else", "user", 1_800_000_000, "inform", json.dumps({"text": "别人的话"})))
    conn.executemany(
        "INSERT INTO events (sender_id, type_name, timestamp, intent_name, data) VALUES (?, ?, ?, ?, ?)", rows
    )
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def test_a_long_conversation_shows_its_newest_messages_oldest_first(tmp_path: Path) -> None:
    url = _tracker(tmp_path / "tracker.db", "web:long", 650)
    lines = [m["text"] for m in transcript(url, "web:long", limit=500)]
    assert len(lines) == 500
    assert lines[0] == "第150条" and lines[-1] == "第649条"  # the newest 500, in order
    assert "别人的话" not in lines


def test_a_short_conversation_is_shown_whole(tmp_path: Path) -> None:
    url = _tracker(tmp_path / "tracker.db", "web:short", 3)
    assert [m["text"] for m in transcript(url, "web:short")] == ["第0条", "第1条", "第2条"]
