"""Paired ratios: each comparison of the ratio table measured back to back.

The machine's speed drifts over tens of seconds on a shared host (the same
route has been seen at 25 and at 32 µs/request a minute apart), and the
rounds of compare.py put half a minute or more between the two routes of a
ratio. Here the two routes of a ratio run in short alternating slices
(A B, B A, A B, ...), so that drift reaches both sides alike, and each
adjacent pair gives one ratio. Settings (environment):

  PAIRS=6         pairs per comparison and server
  PAIR_SECONDS=2  seconds per wrk run of a pair
"""

import os

from harness import CONNECTIONS, ROUTES, log, measure, median

PAIRS = int(os.environ.get("PAIRS", "6"))
PAIR_SECONDS = int(os.environ.get("PAIR_SECONDS", "2"))

HEALTH, ME = ROUTES[0], ROUTES[1]
REFUSED = ROUTES[2:5]

# (numerator route, denominator route, measured figure, row title)
COMPARISONS = [(ME, HEALTH, "rps", "`/users/me` req/s ÷ `/health` req/s")] + [
    (route, ME, "cpu_us",
     "CPU/req %s ÷ 200 `/users/me`" % route[0].split("(")[1].rstrip(")"))
    for route in REFUSED
]


def paired_ratios(servers, procs, toks):
    """{(server, row title): [ratio of each pair]}."""
    ratios = {}
    for name in servers:
        for num, den, key, title in COMPARISONS:
            for i in range(PAIRS):
                first, second = (num, den) if i % 2 == 0 else (den, num)
                runs = {}
                for route in (first, second):
                    label, path, tok, _ = route
                    runs[label] = measure(name, procs[name], path,
                                          toks[name][tok] if tok else None,
                                          CONNECTIONS, PAIR_SECONDS)
                ratio = runs[num[0]][key] / runs[den[0]][key]
                ratios.setdefault((name, title), []).append(ratio)
            vals = ratios[(name, title)]
            log("pairs %-16s %-44s %.2f (%.2f-%.2f) over %d pairs" %
                (name, title, median(vals), min(vals), max(vals), len(vals)))
    return ratios


def report_paired(servers, labels, ratios):
    print("| ratio, back-to-back pairs of %d s runs (%d per figure) | " %
          (PAIR_SECONDS, PAIRS) + " | ".join(labels[n] for n in servers) + " |")
    print("|---|" + "---:|" * len(servers))
    for _, _, _, title in COMPARISONS:
        cells = []
        for name in servers:
            vals = ratios[(name, title)]
            cells.append("%.2f (%.2f-%.2f)" % (median(vals), min(vals), max(vals)))
        print("| %s | %s |" % (title, " | ".join(cells)))
