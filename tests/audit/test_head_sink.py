"""The file outside the database where heads are published: only ever growing, its latest read from its end."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.audit import heads as sink_module
from shared.audit.heads import FileHeadSink
from shared.audit.proofs import TreeHead, sign_head

KEY = Ed25519PrivateKey.generate()


def head(size: int) -> TreeHead:
    return sign_head(KEY, "cadre", size, size.to_bytes(32, "big"), 1_700_000_000_000 + size)


def test_the_latest_head_is_read_from_the_end_of_a_long_file(tmp_path: Path) -> None:
    sink = FileHeadSink(tmp_path)
    sink.publish("cadre", [head(n) for n in range(1, 301)])
    assert sink.path("cadre").stat().st_size > sink_module.TAIL_BYTES, "longer than the part read"
    latest = sink.latest("cadre")
    assert latest is not None and latest.tree_size == 300
    assert [h.tree_size for h in sink.heads("cadre")] == list(range(1, 301))


def test_a_head_already_published_or_older_is_not_written_again(tmp_path: Path) -> None:
    sink = FileHeadSink(tmp_path)
    sink.publish("cadre", [head(1), head(2)])
    sink.publish("cadre", [head(3), head(2), head(1)])  # a replica that read the file before the other wrote
    assert [h.tree_size for h in sink.heads("cadre")] == [1, 2, 3]
    assert FileHeadSink(tmp_path).latest("talent") is None
