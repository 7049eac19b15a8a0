"""Draws the speed chart (an SVG) from the results file of the load test.

    python3 bench/chart.py                                  # bench/results.json -> docs/speed.svg
    python3 bench/chart.py RESULTS.json OUT.svg

bench/compare.py writes the results file (bench/results.json unless RESULTS
says otherwise) and bench/compare.sh runs this script after it. Two panels of
grouped bars, one group per route and one bar per server: requests per second
and the server's CPU time per request, medians over the rounds. Python's
standard library only.

The results file, JSON:

    {"source": "...", "run": "...", "command": "...",
     "servers": [["demo", "demo (Rust)"], ...],
     "results": [{"route": "GET /health", "server": "demo",
                  "rps": {"median": 45111, "min": 33658, "max": 53247},
                  "p99_ms": {...}, "cpu_us": {...}}, ...]}
"""

import json
import math
import sys
from xml.sax.saxutils import escape

# Routes drawn, in this order, with their labels (two lines each). The other
# routes of the results file are alike (the refusals) and left out.
ROUTES = [
    ("GET /health", ("GET /health", "no auth")),
    ("GET /users/me (valid)", ("GET /users/me", "valid token")),
    ("GET /users/me (bad signature)", ("GET /users/me", "bad signature (401)")),
    ("GET /items (valid, SQLite read)", ("GET /items", "valid token, SQLite read")),
]
# Okabe-Ito colours, told apart with colour blindness too.
COLOURS = {"demo": "#D55E00", "fastapi": "#009E73", "fastapi-sql": "#56B4E9"}
SPARE_COLOURS = ["#CC79A7", "#E69F00", "#0072B2"]

WIDTH = 860
MARGIN_LEFT, MARGIN_RIGHT = 78, 24
PANEL_HEIGHT = 220  # plot area of one panel
FONT = "font-family=\"-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif\""
INK, MUTED, GRID = "#1f2328", "#57606a", "#d0d7de"


def nice_ticks(top, count=5):
    """Round tick values from 0 to at least `top`."""
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    n = math.ceil(top / step)
    return [i * step for i in range(n + 1)]


def number(value):
    """45111 -> 45,111; 36.4 -> 36; 0.6 -> 0.6; 0 -> 0."""
    if value >= 10 or value == 0:
        return "{:,.0f}".format(value)
    return "{:.1f}".format(value)


def text(x, y, content, size=12, anchor="middle", colour=INK, weight="normal", extra=""):
    return ('<text x="%.1f" y="%.1f" font-size="%d" text-anchor="%s" fill="%s" '
            'font-weight="%s"%s>%s</text>' %
            (x, y, size, anchor, colour, weight, extra, escape(content)))


def panel(top, title, axis_label, metric, routes, servers, table):
    """One panel of grouped bars; returns SVG elements."""
    out = [text(MARGIN_LEFT, top, title, size=14, anchor="start", weight="600")]
    plot_top = top + 26
    plot_bottom = plot_top + PANEL_HEIGHT
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    values = [table[(s, r)][metric]["median"] for r, _ in routes for s, _ in servers
              if (s, r) in table]
    ticks = nice_ticks(max(values) * 1.08)
    scale = PANEL_HEIGHT / ticks[-1]

    for tick in ticks:
        y = plot_bottom - tick * scale
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="1"/>' %
                   (MARGIN_LEFT, y, WIDTH - MARGIN_RIGHT, y, GRID))
        out.append(text(MARGIN_LEFT - 8, y + 4, number(tick), size=11, anchor="end",
                        colour=MUTED))
    middle = (plot_top + plot_bottom) / 2
    out.append(text(18, middle, axis_label, size=12, colour=MUTED,
                    extra=' transform="rotate(-90 18 %.1f)"' % middle))

    group_width = plot_width / len(routes)
    bar_width = min(56, group_width * 0.8 / len(servers))
    for g, (route, label) in enumerate(routes):
        centre = MARGIN_LEFT + group_width * (g + 0.5)
        first = centre - bar_width * len(servers) / 2
        for i, (server, _) in enumerate(servers):
            if (server, route) not in table:
                continue
            value = table[(server, route)][metric]["median"]
            height = max(value * scale, 1)
            x = first + i * bar_width
            out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>' %
                       (x + 2, plot_bottom - height, bar_width - 4, height, colour(server, servers)))
            out.append(text(x + bar_width / 2, plot_bottom - height - 5, number(value), size=11))
        out.append(text(centre, plot_bottom + 18, label[0], size=12, weight="600"))
        out.append(text(centre, plot_bottom + 33, label[1], size=11, colour=MUTED))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1"/>' %
               (MARGIN_LEFT, plot_bottom, WIDTH - MARGIN_RIGHT, plot_bottom, MUTED))
    return out, plot_bottom + 33


def colour(server, servers):
    if server in COLOURS:
        return COLOURS[server]
    others = [s for s, _ in servers if s not in COLOURS]
    return SPARE_COLOURS[others.index(server) % len(SPARE_COLOURS)]


def chart(data):
    servers = [tuple(s) for s in data["servers"]]
    table = {(r["server"], r["route"]): r for r in data["results"]}
    routes = [(route, label) for route, label in ROUTES
              if any((s, route) in table for s, _ in servers)]
    if not routes:
        sys.exit("chart.py: none of the charted routes is in the results file")

    body = [text(WIDTH / 2, 30, "The demo (Rust, Rocket) beside two FastAPI apps", size=17,
                 weight="600"),
            text(WIDTH / 2, 50, data.get("run", ""), size=11, colour=MUTED)]
    # Legend, centred.
    entry_widths = [20 + 6.8 * len(label) for _, label in servers]
    x = (WIDTH - sum(entry_widths) - 28 * (len(servers) - 1)) / 2
    for (server, label), width in zip(servers, entry_widths):
        body.append('<rect x="%.1f" y="64" width="14" height="14" fill="%s"/>' %
                    (x, colour(server, servers)))
        body.append(text(x + 20, 76, label, size=12, anchor="start"))
        x += width + 28

    top = 108
    for title, axis, metric in (
            ("Requests per second (higher is better)", "requests per second", "rps"),
            ("Server CPU time per request (lower is better)", "CPU µs per request", "cpu_us")):
        elements, bottom = panel(top, title, axis, metric, routes, servers, table)
        body += elements
        top = bottom + 44
    note = ("Medians over the rounds of one run of %s; wrk on loopback, "
            "CPU from /proc of the server's processes." % data.get("command", "bench/compare.sh"))
    body.append(text(WIDTH / 2, top - 16, note, size=11, colour=MUTED))
    height = top

    head = ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
            'viewBox="0 0 %d %d" %s>' % (WIDTH, height, WIDTH, height, FONT))
    title = "<title>Requests per second and CPU per request: the demo and two FastAPI apps</title>"
    background = '<rect width="100%" height="100%" fill="#ffffff" rx="6"/>'
    return "\n".join([head, title, background] + body + ["</svg>", ""])


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else "bench/results.json"
    target = sys.argv[2] if len(sys.argv) > 2 else "docs/speed.svg"
    with open(source, encoding="utf-8") as f:
        data = json.load(f)
    with open(target, "w", encoding="utf-8") as f:
        f.write(chart(data))
    print("chart: %s -> %s" % (source, target), file=sys.stderr)


if __name__ == "__main__":
    main()
