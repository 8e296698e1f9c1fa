"""How ``orgctl audit``'s reading commands look on a terminal, apart from what they compute.

History is read by people at 80 columns and through pipes as often as on a
wide screen. A table squeezes each payload into a column of one-word lines,
so the table is kept only when it fits the terminal; otherwise (or when the
output is not a terminal) each event is a block: a header line, the ids on a
line of their own, then the payload as indented JSON. Lines are never broken
by the renderer (``soft_wrap``): piped output keeps one logical line per line,
for grep, and a terminal wraps them itself. Long output on a terminal goes
through a pager. ``--json`` output is produced elsewhere and is never affected.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from shared.audit import history as hist
from shared.audit.cut import ServiceCut, StreamAt
from shared.audit.links import MISMATCH, UNVERIFIABLE, VERIFIED
from shared.audit.upcast_check import StoreReport

PAYLOAD_INDENT = "    "
UNBOUNDED = 1_000_000
#: Failures shown per (type, version) on a terminal; ``--json`` lists them all.
FAILURES_SHOWN = 20


def fresh_console() -> Console:
    """A console that reads the terminal's size and ``COLUMNS`` now (not when orgctl was imported)."""
    return Console()


@contextlib.contextmanager
def paged(console: Console, lines: int) -> Iterator[None]:
    """Page the output when it is on a terminal and longer than the screen; else print it as it comes.

    Like git, ``LESS`` defaults to ``FRX`` (quit when one screen is enough,
    keep colours, leave the screen as it is) so that the pager shows styles.
    """
    if not console.is_terminal or lines <= console.height:
        yield
        return
    os.environ.setdefault("LESS", "FRX")
    pager = os.environ.get("PAGER", "less")
    with console.pager(styles="less" in pager):
        yield


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


# -- history ------------------------------------------------------------------------------------


def history_table(title: str, rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(
        "pos", "v", "recorded at", "type", "actor", "reason", "correlation", "causation", "payload", title=title
    )
    for r in rows:
        table.add_row(
            str(r["position"]),
            str(r["version"]),
            str(r["recorded_at"]),
            str(r["type"]),
            Text(str(r["actor"])),
            Text(r["reason"] or ""),
            str(r["correlation_id"]),
            str(r["causation_id"] or ""),
            Text(json.dumps(r["data"], ensure_ascii=False)),
        )
    return table


def fits(console: Console, table: Table) -> bool:
    """Whether the table shows every cell whole, unwrapped, on this terminal (never when not a terminal)."""
    if not console.is_terminal:
        return False
    unbounded = console.options.update_width(UNBOUNDED)  # a table measures no wider than it is allowed
    return Measurement.get(console, unbounded, table).maximum <= console.width


def event_block(row: dict[str, Any]) -> list[Text]:
    """One event: the header (position, version, time, type, actor, reason), the ids, the payload as JSON."""
    header = Text()
    header.append(f"#{row['position']}", style="bold")
    header.append(f"  v{row['version']}  {row['recorded_at']}  ")
    header.append(str(row["type"]), style="bold cyan")
    header.append(f"  by {row['actor']}")
    header.append(f"  reason: {row['reason']}" if row["reason"] else "  (no reason given)", style="italic")
    ids = Text(
        f"  event {row['event_id']}  correlation {row['correlation_id']}  causation {row['causation_id'] or '-'}",
        style="dim",
    )
    payload = [Text(PAYLOAD_INDENT + line) for line in pretty_json(row["data"]).splitlines()]
    return [header, ids, *payload]


def show_history(console: Console, owner: str, stream: str, rows: Sequence[dict[str, Any]]) -> None:
    """The stream's events as a table when it fits the terminal, else as blocks (paged when long)."""
    title = f"{owner}: {stream}"
    table = history_table(title, rows)
    if fits(console, table):
        with paged(console, len(rows) + 4):
            console.print(table)
        return
    blocks = [event_block(row) for row in rows]
    with paged(console, sum(len(b) + 1 for b in blocks) + 2):
        console.print(Text(f"{title}  ({len(rows)} events)", style="bold"), soft_wrap=True)
        for block in blocks:
            console.print()
            for line in block:
                console.print(line, soft_wrap=True)


# -- as of, across every store ------------------------------------------------------------------


def cut_table(at: str, cuts: Sequence[ServiceCut]) -> Table:
    table = Table(
        "service", "cursor", "position", "last recorded at", "streams", "events", "held back", title=f"the cut at {at}"
    )
    for c in cuts:
        if not c.present:
            table.add_row(c.service, "[dim]no store here[/dim]", "", "", "", "", "")
            continue
        table.add_row(
            c.service,
            str(c.cursor) if c.cursor else "-",
            str(c.cursor.position) if c.cursor else "-",
            c.recorded_at or "-",
            str(len(c.streams)),
            str(c.events),
            str(c.held_back) if not c.held_back else f"[yellow]{c.held_back}[/yellow]",
        )
    return table


def stream_lines(service: str, stream: StreamAt) -> list[Text]:
    """One stream in a cut: a header (service, stream, version, events, as of when), its problem, its state as JSON."""
    header = Text()
    header.append(f"{service}  ", style="cyan")
    header.append(stream.stream_id, style="bold")
    header.append(f"  v{stream.state['version'] if stream.state else 0}, {stream.events} event(s)")
    if stream.state and stream.state.get("as_of_time"):
        header.append(f", as of {stream.state['as_of_time']}")
    lines = [Text(""), header]
    if stream.problem:
        lines.append(Text(f"  {stream.problem}", style="red"))
    if stream.state is not None:
        lines += [Text(PAYLOAD_INDENT + line) for line in pretty_json(stream.state["state"]).splitlines()]
    return lines


def show_cut(console: Console, at: str, cuts: Sequence[ServiceCut]) -> None:
    """The cut first, one line per store; then every stream's state as of the moment; then the problems."""
    lines = [line for c in cuts for s in c.streams for line in stream_lines(c.service, s)]
    with paged(console, len(lines) + len(cuts) + 6):
        console.print(cut_table(at, cuts))
        held = sum(c.held_back for c in cuts)
        if held:
            console.print(
                f"[yellow]{held} event(s) before a cursor were recorded after the moment (writers' clocks "
                "out of step with commit order): left out, with the rest of their stream.[/yellow]"
            )
        for line in lines:
            console.print(line, soft_wrap=True)
        problems = [(c.service, s) for c in cuts for s in c.problems]
        for service, s in problems:
            console.print(f"[red]{service} {s.stream_id}: {escape(s.problem or '')}[/red]", soft_wrap=True)


# -- trace --------------------------------------------------------------------------------------

VERDICT_STYLE = {
    VERIFIED: "[green]✓ verified[/green]",
    MISMATCH: "[red]✗ MISMATCH[/red]",
    UNVERIFIABLE: "[yellow]? unverifiable[/yellow]",
}


def show_trace(console: Console, correlation_id: str, roots: Sequence[hist.Node]) -> None:
    """The causal tree; each link to another service's event with its verdict, and a count of verdicts."""
    tree = Tree(f"[bold]correlation {correlation_id}[/bold]")

    def add(branch: Tree, node: hist.Node) -> None:
        e = node.event
        label = Text.assemble(
            f"{str(e.metadata.get('recorded_at', ''))[:19]}  ",
            (node.service, "cyan"),
            f"  {e.type}  {e.stream_id} v{e.version}  ({e.metadata.get('actor')})",
        )
        if node.link is not None:
            label.append("  ")
            label.append_text(Text.from_markup(VERDICT_STYLE[node.link.verdict]))
            label.append(f" ← {node.link.upstream_service or '?'}")
            if node.link.verdict != VERIFIED:
                label.append(f": {node.link.detail}", style="dim")
        child = branch.add(label)
        for c in node.children:
            add(child, c)

    for root in roots:
        add(tree, root)
    console.print(tree)
    checked = hist.links(roots)
    counts = {verdict: sum(1 for link in checked if link.verdict == verdict) for verdict in VERDICT_STYLE}
    console.print(
        f"links between services: {counts[VERIFIED]} verified, "
        + (f"[red]{counts[MISMATCH]} MISMATCH[/red]" if counts[MISMATCH] else "0 MISMATCH")
        + f", {counts[UNVERIFIABLE]} unverifiable"
    )
    for link in checked:
        if link.verdict == MISMATCH:
            console.print(f"[red]MISMATCH[/red] {link.upstream_event_id}: {escape(link.detail)}", soft_wrap=True)


# -- upcast-check -------------------------------------------------------------------------------


def show_upcast_check(console: Console, reports: Sequence[StoreReport], every_event: bool) -> None:
    """A line per store, then each failing (type, version) with the events that fail (the first few)."""
    for r in reports:
        if not r.present:
            console.print(f"{r.service}: [dim]no store here[/dim]")
            continue
        what = f"{r.events} event(s)" if every_event else f"one event of each of {len(r.pairs)} pair(s)"
        verdict = "[green]all load[/green]" if r.ok else f"[red]{len(r.failures)} do not load[/red]"
        console.print(f"{r.service}: {len(r.pairs)} (type, version) pair(s), {what} checked: {verdict}")
        for pair in r.pairs:
            if not pair.failed:
                continue
            console.print(
                f"  [red]{pair.type} v{pair.schema_version}[/red]: {pair.failed} of {pair.events} fail: "
                f"{escape(pair.error or '')}",
                soft_wrap=True,
            )
            shown = [f for f in r.failures if (f.type, f.schema_version) == (pair.type, pair.schema_version)]
            for f in shown[:FAILURES_SHOWN]:
                console.print(
                    f"    position {f.position}  event {f.event_id}  {f.stream_id}: {f.error}",
                    soft_wrap=True,
                    markup=False,
                )
            if len(shown) > FAILURES_SHOWN:
                console.print(f"    … and {len(shown) - FAILURES_SHOWN} more (--json lists every one)")
