"""Read a report page back without a browser: its tables' exact values and embedded JSON."""

from __future__ import annotations

import json
from html.parser import HTMLParser


class PageReader(HTMLParser):
    """Collects, per section id, the table cells ({row id: {key: exact value}}) and the JSON
    documents embedded with their commands; and every URL-bearing attribute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.section: str | None = None
        self.row: str | None = None
        self.cells: dict[str, dict[str, dict[str, float]]] = {}
        self.texts: dict[str, dict[str, dict[str, str]]] = {}
        self.json: dict[str, dict[str, object]] = {}
        self.urls: list[str] = []
        self._cell: tuple[str, str] | None = None
        self._script: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("src", "href", "action", "xlink:href", "data"):
            if a.get(name):
                self.urls.append(a[name])  # type: ignore[arg-type]
        if tag == "section":
            self.section = a["id"]
            self.cells[self.section] = {}  # type: ignore[index]
            self.texts[self.section] = {}  # type: ignore[index]
        elif tag == "tr" and "data-row" in a:
            self.row = a["data-row"]
        elif tag == "td" and self.section and self.row is not None:
            key = a["data-key"]
            if "data-value" in a:
                self.cells[self.section].setdefault(self.row, {})[key] = float(a["data-value"])  # type: ignore[index, arg-type]
            self._cell = (self.row, key)  # type: ignore[assignment]
            self._buf = []
        elif tag == "script" and a.get("type") == "application/json":
            self._script = a["data-command"]
            self._buf = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None or self._script is not None:
            self._buf.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            row, key = self._cell
            self.texts[self.section].setdefault(row, {})[key] = "".join(self._buf)  # type: ignore[index]
            self._cell = None
        elif tag == "script" and self._script is not None:
            self.json.setdefault(self.section, {})[self._script] = json.loads("".join(self._buf))  # type: ignore[arg-type]
            self._script = None
        elif tag == "section":
            self.section = None


def read_page(html: str) -> PageReader:
    r = PageReader()
    r.feed(html)
    return r


def at(doc: object, path: str) -> object:
    """``at(d, "points.0.summary.ttft.p50")``."""
    for part in path.split("."):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]  # type: ignore[index]
    return doc
