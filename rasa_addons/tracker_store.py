"""Rasa's SQL tracker store, redacting what a finished turn no longer needs.

endpoints.yml names it (``type: rasa_addons.tracker_store.RedactingSQLTrackerStore``) with the
usual ``SQLTrackerStore`` options. After each save, the sender's stored events of finished turns
are rewritten as ``rasa_addons.redaction.redact_events`` says (rows are updated in place, so the
event count the store appends by stays the same). Events of an unfinished turn, and values a
running form still needs, are left until a later save.
"""

from __future__ import annotations

import json
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons.redaction import redact_events


class RedactingSQLTrackerStore(SQLTrackerStore):
    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        self.redact(
            tracker.sender_id,
            requested_slot=tracker.get_slot("requested_slot"),
            active_loop=tracker.active_loop_name,
        )

    def redact(self, sender_id: str, *, requested_slot: Any, active_loop: Any) -> int:
        """Rewrite the sender's stored events; returns how many rows changed."""
        changed = 0
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=True).all()
            events = [json.loads(row.data) for row in rows]
            redacted = redact_events(
                events,
                requested_slot=str(requested_slot) if requested_slot else None,
                active_loop=str(active_loop) if active_loop else None,
            )
            for row, before, after in zip(rows, events, redacted, strict=True):
                if after != before:
                    row.data = json.dumps(after)
                    changed += 1
            if changed:
                session.commit()
        return changed
