"""A replica of ICE's detention-management page, serving statistics workbooks.

``/detain/detention-management`` links every workbook it serves under ``/doclib/detention/``,
some by absolute and some by relative address, oldest first (so the newest is not the first
link). Workbooks are real files given to it, or ones made by :func:`make_workbook`.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from sandbox.http import ReplicaHandler, ReplicaServer

HEADER = [
    "Name",
    "Address",
    "City",
    "State",
    "Zip",
    "AOR",
    "Type Detailed",
    "Male/Female",
    "FY{fy} ALOS",
    "Level A",
    "Level B",
    "Level C",
    "Level D",
    "Male Crim",
    "Male Non-Crim",
    "Female Crim",
    "Female Non-Crim",
    "ICE Threat Level 1",
    "ICE Threat Level 2",
    "ICE Threat Level 3",
    "No ICE Threat Level",
    "Mandatory",
    "Guaranteed Minimum",
    "Last Inspection Type",
    "Last Inspection End Date",
    "Last Inspection Standard",
    "Last Final Rating",
]
FACILITIES = [
    (
        "ADELANTO ICE PROCESSING CENTER",
        "10250 RANCHO ROAD",
        "ADELANTO",
        "CA",
        "92301",
        "LOS",
        "CDF",
        "Female/Male",
    ),
    ("DESERT VIEW ANNEX", "10450 RANCHO ROAD", "ADELANTO", "CA", "92301", "LOS", "CDF", "Male"),
    (
        "OTAY MESA DETENTION CENTER",
        "7488 CALZADA DE LA FUENTE",
        "SAN DIEGO",
        "CA",
        "92154",
        "SND",
        "CDF",
        "Female/Male",
    ),
    (
        "IMPERIAL REGIONAL DETENTION FACILITY",
        "1572 GATEWAY ROAD",
        "CALEXICO",
        "CA",
        "92231",
        "SND",
        "CDF",
        "Male",
    ),
]


def make_workbook(path: Path, fy: int, as_of: date, adp: dict[str, float]) -> Path:
    """An FY edition laid out like ICE's (banner rows, header at row 7, a footnote row)."""
    import openpyxl

    wb = openpyxl.Workbook()
    first = wb.active
    assert first is not None
    first.title = "Header"
    wb.create_sheet(f"Detention FY{fy % 100:02d}")
    ws = wb.create_sheet(f"Facilities FY{fy % 100:02d} ")
    ws.append([" "])
    ws.append(["These statistics are made available to the public pursuant to H.R. 1158."])
    ws.append([f"ICE FACILITIES DATA, FY{fy % 100:02d}"])
    ws.append([f"ICE Enforcement and Removal Operations Data, FY{fy}"])
    ws.append(
        [
            "Facility Information",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "Facility Average Length of Stay",
        ]
    )
    ws.append([f"Data Source: ICE Integrated Decision Support (IIDS), {as_of:%m/%d/%Y}"])
    ws.append([h.format(fy=f"{fy % 100:02d}") for h in HEADER])
    for name, street, city, st, zip_, aor, kind, gender in FACILITIES:
        total = adp.get(name, 100.0)
        levels = [total * 0.4, total * 0.3, total * 0.2, total * 0.1]
        crim = [total * 0.3, total * 0.6, total * 0.03, total * 0.07]
        threat = [total * 0.1, total * 0.1, total * 0.2, total * 0.6]
        ws.append(
            [
                name,
                street,
                city,
                st,
                int(zip_),
                aor,
                kind,
                gender,
                40.5,
                *levels,
                *crim,
                *threat,
                total * 0.5,
                640 if "ADELANTO" in name else None,
                "ODO",
                "Scheduled FY27" if "DESERT" in name else date(fy - 1, 11, 5),
                "NDS 2019",
                "Meets Standards",
            ]
        )
    ws.append(["(*) ORSA scheduled FY27 Q1"])
    wb.save(path)
    return path


@dataclass
class StatsState:
    files: list[Path] = field(default_factory=list)  # in page order
    lock: threading.Lock = field(default_factory=threading.Lock)
    downloads: list[str] = field(default_factory=list)
    layout: str = "normal"


class DetentionStatsSandbox(ReplicaServer):
    def __init__(self, port: int = 0) -> None:
        self.state = StatsState()
        state = self.state
        replica = self  # its address is known once the server has bound its port

        class Handler(ReplicaHandler):
            def do_GET(self) -> None:
                path = unquote(urlsplit(self.path).path)
                with state.lock:
                    files = list(state.files)
                    layout = state.layout
                if path == "/detain/detention-management":
                    links = []
                    for i, f in enumerate(files):
                        href = f"/doclib/detention/{quote(f.name)}"
                        if i % 2 == 0:
                            # absolute and relative links, as seen on ICE's
                            href = replica.url + href
                        label = f"Detention statistics {html.escape(f.stem)} (227 KB)"
                        links.append(f"<li><a href='{href}'>{label}</a></li>")
                    body = "".join(links) if layout == "normal" else ""
                    self._send(
                        200,
                        "text/html; charset=utf-8",
                        "<html><head><title>Detention Management | ICE</title></head><body>"
                        "<h1>Detention Management</h1><h2 id='stats'>Detention Statistics</h2>"
                        f"<p>Updated: <time>2026-11-20</time></p><ul>{body}</ul></body></html>",
                    )
                    return
                for f in files:
                    if path == f"/doclib/detention/{f.name}":
                        data = f.read_bytes()
                        with state.lock:
                            state.downloads.append(f.name)
                        self.send_response(200)
                        self.send_header(
                            "Content-Type",
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        )
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                        return
                self._send(404, "text/html", "<h1>Page Not Found</h1>")

        super().__init__(port, Handler)

    @property
    def page_url(self) -> str:
        return f"{self.url}/detain/detention-management"

    def serve(self, files: list[Path]) -> None:
        with self.state.lock:
            self.state.files = list(files)
