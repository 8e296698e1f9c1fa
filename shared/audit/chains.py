"""Each stream's chain of hashes, checked in commit-safe order: what verification cannot split up.

Used by the one-process pass (``verify``) and by ``parallel``, which replays
here the streams whose ranges do not link end to end, so that both give the
same findings.
"""

from __future__ import annotations

from shared.audit.checks import Findings
from shared.eventstore.records import ZERO_HASH


class Chains:
    """Each stream's chain, checked as the pass meets its events in commit-safe order.

    In an honest log a stream's versions come in order (a later version has a
    later transaction); a version that comes early waits until the versions
    before it arrive, and whatever still waits at the end was cut off from
    its stream: the versions before it were deleted. Streams never meet:
    each stream's events can be checked apart from the others'.
    """

    def __init__(self, report: Findings) -> None:
        self.report = report
        self.heads: dict[str, tuple[int, bytes]] = {}
        self.waiting: dict[str, dict[int, tuple[int, bytes, bytes]]] = {}

    def see(self, stream_id: str, version: int, position: int, prev_hash: bytes, digest: bytes) -> None:
        last, _ = self.heads.get(stream_id, (0, ZERO_HASH))
        if version <= last or version in self.waiting.get(stream_id, {}):
            self.report.add(position, "reordered", f"stream {stream_id} v{version} comes after v{last} of its stream")
        elif version == last + 1:
            self._link(stream_id, version, position, prev_hash, digest)
        else:
            self.waiting.setdefault(stream_id, {})[version] = (position, prev_hash, digest)

    def _link(self, stream_id: str, version: int, position: int, prev_hash: bytes, digest: bytes) -> None:
        _, previous = self.heads.get(stream_id, (0, ZERO_HASH))
        if prev_hash != previous:
            self.report.add(
                position, "inserted", f"stream {stream_id} v{version} does not chain to the event before it"
            )
        self.heads[stream_id] = (version, digest)
        waiting = self.waiting.get(stream_id)
        if waiting and version + 1 in waiting:
            self._link(stream_id, version + 1, *waiting.pop(version + 1))

    def finish(self) -> None:
        for stream_id, waiting in self.waiting.items():
            while waiting:
                version = min(waiting)
                position, _, digest = waiting.pop(version)
                last, _ = self.heads.get(stream_id, (0, ZERO_HASH))
                missing = f"v{last + 1}" + (f"-v{version - 1}" if version - 1 > last + 1 else "")
                self.report.add(position, "deleted", f"stream {stream_id} v{version}: {missing} missing before it")
                self.heads[stream_id] = (version, digest)
                if version + 1 in waiting:
                    self._link(stream_id, version + 1, *waiting.pop(version + 1))
