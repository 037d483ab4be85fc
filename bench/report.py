"""Numbers from samples: percentiles, throughput, the ratio to the trivial route,
pass or fail against the issue's targets; the terminal table and the JSON file."""

import json
import math
import os
import platform
import subprocess
import time
from pathlib import Path

from bench.client import SETUP
from bench.scenarios import ROWS, TRIVIAL, WARMUP

WEIGHT_TARGET = 60 * 1024  # bytes, gzip-compressed, a page with everything it loads


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(run, rows: tuple[str, ...], warmup: float, duration: float, pooled: bool):
    """Each row's numbers from one run's samples, and the measured window (begin, end) or None.

    Time-based scenarios measure the requests started in [start + warm-up,
    start + warm-up + duration); pooled ones (prepared visits) every request
    not named as warm-up. Throughput: successful requests per second of the
    measured window, which ends at the last measured answer if that is sooner.
    """
    measured = [
        s
        for s in run.samples
        if not s[0].startswith((SETUP, WARMUP))
        and (pooled or run.started + warmup <= s[1] < run.started + warmup + duration)
    ]
    bounds = None
    if measured:
        begin = min(s[1] for s in measured) if pooled else run.started + warmup
        end = min(max(s[1] + s[2] / 1000 for s in measured), run.started + warmup + duration)
        window = max(end - begin, 1e-6)
        bounds = (begin, end)
    else:
        window = math.nan
    results = {}
    for key in rows:
        mine = [s for s in measured if s[0] == key]
        good = [s[2] for s in mine if s[3]]
        results[key] = {
            "n": len(good),
            "unmeasured_n": sum(1 for s in run.samples if s[0] in (key, WARMUP + key) and s[3]) - len(good),
            "errors": len(mine) - len(good),
            "p50_ms": _round(percentile(good, 0.50)),
            "p95_ms": _round(percentile(good, 0.95)),
            "p99_ms": _round(percentile(good, 0.99)),
            "mean_ms": _round(sum(good) / len(good)) if good else None,
            "max_ms": _round(max(good)) if good else None,
            "rps": _round(len(good) / window) if good else 0.0,
            "window_s": _round(window),
        }
    return results, bounds


def cpu_per_request(readings: list[tuple[float, float]], samples, begin: float, end: float) -> float | None:
    """The server's CPU milliseconds per request over [begin, end): its CPU time
    then (from (time, CPU seconds) readings) over every request started then."""
    if len(readings) < 2 or end <= begin:
        return None
    requests = sum(1 for s in samples if not s[0].startswith(SETUP) and begin <= s[1] < end)
    if not requests:
        return None
    return round((_cpu_at(readings, end) - _cpu_at(readings, begin)) * 1000 / requests, 2)


def _cpu_at(readings: list[tuple[float, float]], moment: float) -> float:
    """CPU seconds at `moment`, interpolated between the readings around it."""
    before = [r for r in readings if r[0] <= moment] or readings[:1]
    after = [r for r in readings if r[0] >= moment] or readings[-1:]
    (t0, c0), (t1, c1) = before[-1], after[0]
    return c0 if t1 == t0 else c0 + (c1 - c0) * (moment - t0) / (t1 - t0)


def _round(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 1)


def judge(results: dict) -> None:
    """Add ratio, target and pass/fail to every row (in place)."""
    trivial = results.get(TRIVIAL, {}).get("rps") or None
    for key, numbers in results.items():
        row = ROWS[key]
        numbers["title"] = row.title
        numbers["target_p95_ms"] = row.target_ms
        numbers["target_ratio"] = row.min_ratio
        if numbers.get("not_built"):
            numbers["pass"] = None
            continue
        numbers["ratio"] = round(numbers["rps"] / trivial, 3) if trivial and numbers["rps"] else None
        if row.target_ms is None:
            numbers["pass"] = None
            continue
        ok = numbers["n"] > 0 and numbers["errors"] == 0 and numbers["p95_ms"] <= row.target_ms
        if row.min_ratio is not None:
            ok = ok and numbers["ratio"] is not None and numbers["ratio"] >= row.min_ratio
        numbers["pass"] = ok


def _cell(value, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(results: dict) -> str:
    head = (
        f"{'page':<36} {'n':>6} {'err':>4} {'p50':>7} {'p95':>7} {'p99':>7} {'req/s':>7} {'ratio':>6} "
        f"{'cpu/req':>7}  {'target':<22} result"
    )
    lines = [head, "-" * len(head)]
    for r in results.values():
        if r.get("not_built"):
            lines.append(f"{r['title']:<36} {'not built (no dashboard endpoint in the url map)':>60}")
            continue
        target = "-" if r["target_p95_ms"] is None else f"p95<={r['target_p95_ms']}"
        if r["target_ratio"] is not None:
            target += f" ratio>={r['target_ratio']:.2f}"
        verdict = {None: "-", True: "pass", False: "FAIL"}[r["pass"]]
        lines.append(
            f"{r['title'][:36]:<36} {r['n']:>6} {r['errors']:>4} {_cell(r['p50_ms']):>7} {_cell(r['p95_ms']):>7} "
            f"{_cell(r['p99_ms']):>7} {_cell(r['rps']):>7} {_cell(r.get('ratio'), 2):>6} "
            f"{_cell(r.get('app_cpu_ms_per_request')):>7}  {target:<22} {verdict}"
        )
    lines.append(
        "(milliseconds; req/s of successful requests; ratio = req/s ÷ the trivial route's req/s;\n"
        " cpu/req = gunicorn's CPU ms per request in the measured window, the database's not included)"
    )
    return "\n".join(lines)


def weight_table(weights: list[dict]) -> str:
    head = f"{'page weight':<36} {'html':>8} {'files':>6} {'raw KB':>8} {'gzip KB':>8}  {'target':<9} result"
    lines = [head, "-" * len(head)]
    for w in weights:
        verdict = "pass" if w["pass"] else "FAIL"
        lines.append(
            f"{w['title'][:36]:<36} {w['html_bytes']:>8} {len(w['files']):>6} {w['raw_bytes'] / 1024:>8.1f} "
            f"{w['gzip_bytes'] / 1024:>8.1f}  <={WEIGHT_TARGET // 1024} KB   {verdict}"
        )
    return "\n".join(lines)


def hardware() -> dict:
    info = {"nproc": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version()}
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    if cpuinfo.exists():
        models = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        info["cpu_model"] = models[0] if models else None
    if meminfo.exists():
        total = next(
            (line.split()[1] for line in meminfo.read_text().splitlines() if line.startswith("MemTotal")),
            None,
        )
        info["ram_gb"] = round(int(total) / 1024 / 1024, 1) if total else None
    info["load_average"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    return info


def git_commit(root: Path) -> str | None:
    try:
        answer = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        )
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True)
    except OSError:
        return None
    return (
        answer.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "") if answer.returncode == 0 else None
    )


def write_json(out: Path, document: dict) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2))
    return path
