"""`python -m bench.markdown bench-results/bench-….json`: a run's tables in Markdown,
for docs/performance.md."""

import json
import sys
from pathlib import Path

from bench.report import WEIGHT_TARGET


def _cell(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def tables(document: dict) -> str:
    db, settings, machine = document["database"], document["settings"], document["hardware"]
    rows = db["rows_before_run"]
    lines = [
        f"{document['date']}, commit {document['git']}; {db['data']} data on {db['dialect']} "
        f"({rows['household']} households, {rows['user_account']} users, {rows['task']} tasks, "
        f"{rows['claim']} claims, {rows['ledger_entry']} ledger entries); {settings['clients']} clients "
        f"({settings['driver']}), {settings['gunicorn_workers']} gunicorn workers, "
        f"{settings['warmup_s']:g} s warm-up + {settings['duration_s']:g} s per page; "
        f"1-minute load average {machine['load_average'][0]:.1f} before, "
        f"{document['load_average_after'][0]:.1f} after.",
        "",
        "| page | n | p50 ms | p95 ms | p99 ms | req/s | ratio | CPU ms/req | target | result |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for r in document["results"].values():
        if r.get("not_built"):
            lines.append(f"| {r['title']} | not built | | | | | | | p95 ≤ {r['target_p95_ms']} | – |")
            continue
        target = "–" if r["target_p95_ms"] is None else f"p95 ≤ {r['target_p95_ms']}"
        if r["target_ratio"] is not None:
            target += f", ratio ≥ {r['target_ratio']:.2f}"
        verdict = {None: "–", True: "pass", False: "**fail**"}[r["pass"]]
        lines.append(
            f"| {r['title']} | {r['n']} | {_cell(r['p50_ms'])} | {_cell(r['p95_ms'])} | {_cell(r['p99_ms'])} "
            f"| {_cell(r['rps'])} | {_cell(r.get('ratio'), 2)} | {_cell(r.get('app_cpu_ms_per_request'))} "
            f"| {target} | {verdict} |"
        )
    lines += [
        "",
        "| page weight | HTML bytes | files | raw KB | gzip KB | target | result |",
        "|---|--:|--:|--:|--:|---|---|",
    ]
    for w in document["page_weight"]:
        lines.append(
            f"| {w['title']} | {w['html_bytes']} | {len(w['files'])} | {w['raw_bytes'] / 1024:.1f} "
            f"| {w['gzip_bytes'] / 1024:.1f} | ≤ {WEIGHT_TARGET // 1024} KB | {'pass' if w['pass'] else '**fail**'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(tables(json.loads(Path(sys.argv[1]).read_text())))
