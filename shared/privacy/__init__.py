"""Personal data in an append-only log: sealed per data subject, erased by forgetting a key.

An event's schema names its personal fields and whose they are
(``shared.domain.privacy.personal``). The store seals each such value under
its subject's own key (``sealing``, AES-256-GCM), keeps the keys in a table of
their own beside the log (``keys``), and opens the values again on every read.
The log is never rewritten: erasing a subject deletes its key, and from then
on every read, replay and projection shows the field as erased, while the
hash chain, computed over the sealed text, still verifies (``erasure``).

``sealing`` and ``keys`` sit under the event store and import nothing above
it; ``erasure`` uses the stores, the projections and the domain.
"""
