"""A replica of EOIR's court operational status page and the Adelanto court page.

``/eoir/immigration-court-operational-status`` renders the Drupal table (``table.usa-table``,
``td.views-field-nothing`` with the court link and ``p.address``, ``td.views-field-field-eoir-
court-status`` with the status spread over ``<p>`` leaves and ``&nbsp;`` fillers) and the map JSON
(``drupal-settings-json``, ``leaflet.*.features[].popup.value``), for 72 courts. The Adelanto page
``/eoir/adelanto-immigration-court`` lists its judges. State is set in code or over HTTP:
``/_control?slug=S&status=TEXT``, ``judges=A|B|C``, ``layout=broken|normal``.
"""

from __future__ import annotations

import html
import json
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from sandbox.http import ReplicaHandler, ReplicaServer

COURTS = [
    (
        "adelanto-immigration-court",
        "Adelanto",
        "10250 Rancho Road, Suite 201A",
        "Adelanto",
        "CA",
        "92301",
    ),
    (
        "los-angeles-olive-street-immigration-court",
        "Los Angeles - Olive Street",
        "606 S. Olive Street, 15th Floor",
        "Los Angeles",
        "CA",
        "90014",
    ),
    (
        "los-angeles-n-los-angeles-street-immigration-court",
        "Los Angeles - N. Los Angeles Street",
        "300 N. Los Angeles Street, Room 4330",
        "Los Angeles",
        "CA",
        "90012",
    ),
    (
        "los-angeles-van-nuys-boulevard-immigration-court",
        "Los Angeles - Van Nuys Boulevard",
        "6230 Van Nuys Boulevard",
        "Van Nuys",
        "CA",
        "91401",
    ),
    (
        "los-angeles-west-los-angeles-immigration-court",
        "Los Angeles - West Los Angeles",
        "11500 W. Olympic Boulevard",
        "Los Angeles",
        "CA",
        "90064",
    ),
    (
        "santa-ana-immigration-court",
        "Santa Ana",
        "34 Civic Center Plaza",
        "Santa Ana",
        "CA",
        "92701",
    ),
    ("imperial-immigration-court", "Imperial", "2409 La Brucherie Road", "Imperial", "CA", "92251"),
    (
        "otay-mesa-immigration-court",
        "Otay Mesa",
        "7488 Calzada de la Fuente",
        "San Diego",
        "CA",
        "92154",
    ),
    (
        "san-diego-immigration-court",
        "San Diego",
        "401 West A Street, Suite 800",
        "San Diego",
        "CA",
        "92101",
    ),
]
OTHER = [
    "Annandale",
    "Atlanta",
    "Baltimore",
    "Batavia",
    "Boston",
    "Buffalo",
    "Charlotte",
    "Chelmsford",
    "Chicago",
    "Cleveland",
    "Conroe",
    "Dallas",
    "Denver",
    "Detroit",
    "El-Paso",
    "Elizabeth",
    "Eloy",
    "Florence",
    "Fort-Worth",
    "Guaynabo",
    "Harlingen",
    "Hartford",
    "Honolulu",
    "Houston",
    "Hyattsville",
    "Imperial-Valley",
    "Kansas-City",
    "Las-Vegas",
    "Laredo",
    "Lumpkin",
    "Memphis",
    "Miami",
    "Newark",
    "New-Orleans",
    "New-York-Broadway",
    "New-York-Federal-Plaza",
    "Oakdale",
    "Omaha",
    "Orlando",
    "Pearsall",
    "Philadelphia",
    "Phoenix",
    "Portland",
    "Richmond",
    "Sacramento",
    "Saint-Paul",
    "Salt-Lake-City",
    "San-Antonio",
    "San-Francisco",
    "Seattle",
    "Sterling",
    "Tacoma",
    "Tucson",
    "Tulsa",
    "Varick",
    "Western-Michigan",
    "Yakima",
    "York",
    "Jena",
    "Port-Isabel",
    "Otero",
    "Dilley",
    "Stewart",
]


@dataclass
class CourtsState:
    status: dict[str, str] = field(default_factory=dict)  # slug -> status text
    judges: list[str] = field(
        default_factory=lambda: [
            "Abara, A.",
            "Bellweather, C.",
            "Castellan, D.",
            "Dunmore, E.",
            "Esquivel, F.",
            "Farrow, G.",
        ]
    )
    layout: str = "normal"
    lock: threading.Lock = field(default_factory=threading.Lock)
    hits: int = 0


def all_courts() -> list[tuple[str, str, str, str, str, str]]:
    rows = list(COURTS)
    for i, name in enumerate(OTHER):
        slug = f"{name.lower()}-immigration-court"
        rows.append(
            (
                slug,
                name.replace("-", " "),
                f"{100 + i} Main Street",
                name.replace("-", " "),
                "US",
                f"{10000 + i:05d}",
            )
        )
    return rows


def render_status(state: CourtsState) -> str:
    rows_html = []
    features = []
    for slug, name, street, city, st, zip_ in all_courts():
        status = state.status.get(slug, "OPEN")
        leaves = "".join(f"<p>{html.escape(part)}</p><p>&nbsp;</p>" for part in status.split("\n"))
        address = (
            f"<p class='address' translate='no'><span class='address-line1'>{html.escape(street)}"
            f"</span><br><span class='locality'>{html.escape(city)}</span>, "
            f"<span class='administrative-area'>{st}</span> <span class='postal-code'>{zip_}"
            "</span><br><span class='country'>United States</span></p>"
        )
        link = f"<a href='/eoir/{slug}' hreflang='en'>{html.escape(name)}</a>"
        rows_html.append(
            f"<tr><td class='views-field views-field-nothing'>{link}{address}</td>"
            f"<td class='views-field views-field-field-eoir-court-status'>{leaves}</td></tr>"
        )
        features.append(
            {
                "type": "point",
                "lat": 34.0,
                "lon": -117.0,
                "tooltip": {"value": name},
                "popup": {"value": f"{link}{address}{leaves}"},
            }
        )
    if state.layout == "broken":
        rows_html = rows_html[:12]  # a redesign: most of the table gone, no map data
        features = []
    settings = {"leaflet": {"leaflet-map-view-court-status": {"features": features}}}
    table_class = "usa-table" if state.layout != "broken" else "usa-table-new"
    return (
        "<!DOCTYPE html><html lang='en'><head><title>Immigration Court Operational Status | "
        "EOIR</title></head><body><main><h1>Immigration Court Operational Status</h1>"
        f"<table class='{table_class}'><thead><tr><th>Immigration Court</th><th>Status</th></tr>"
        f"</thead><tbody>{''.join(rows_html)}</tbody></table>"
        "<script type='application/json' data-drupal-selector='drupal-settings-json'>"
        f"{json.dumps(settings)}</script></main></body></html>"
    )


def render_court_page(state: CourtsState) -> str:
    judges = "".join(f"<li>{html.escape(j)}</li>" for j in state.judges)
    return (
        "<!DOCTYPE html><html lang='en'><head><title>Adelanto Immigration Court | EOIR</title>"
        "</head><body><main><h1>Adelanto Immigration Court</h1><h2>Address</h2>"
        "<p>10250 Rancho Road, Suite 201A<br>Adelanto, CA 92301</p><h2>Contact the Court</h2>"
        "<p>Phone: 760-561-6500 <a href='mailto:EOIR.Adelanto@example.gov'>email</a></p>"
        "<h3>Assistant Chief Immigration Judge</h3><p>Galloway, H.</p>"
        "<h3>Court Administrator</h3><p>Pruitt, B.</p>"
        f"<h3>Immigration Judges</h3><ul>{judges}</ul></main></body></html>"
    )


class CourtStatusSandbox(ReplicaServer):
    def __init__(self, port: int = 0) -> None:
        self.state = CourtsState()
        state = self.state

        class Handler(ReplicaHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                with state.lock:
                    state.hits += 1
                    if url.path == "/_control":
                        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
                        if "slug" in q:
                            state.status[q["slug"]] = q.get("status", "OPEN")
                        if "judges" in q:
                            state.judges = [j for j in q["judges"].split("|") if j]
                        if "layout" in q:
                            state.layout = q["layout"]
                        self._send(200, "application/json", '{"ok": true}')
                    elif url.path == "/eoir/immigration-court-operational-status":
                        self._send(200, "text/html; charset=utf-8", render_status(state))
                    elif url.path == "/eoir/adelanto-immigration-court":
                        self._send(200, "text/html; charset=utf-8", render_court_page(state))
                    else:
                        self._send(404, "text/html", "<h1>Page not found</h1>")

        super().__init__(port, Handler)

    def close(self, slug: str, text: str) -> None:
        with self.state.lock:
            self.state.status[slug] = text

    def reopen(self, slug: str) -> None:
        with self.state.lock:
            self.state.status.pop(slug, None)

    def set_judges(self, judges: list[str]) -> None:
        with self.state.lock:
            self.state.judges = list(judges)
