#!/usr/bin/python3
"""Draws docs/bench-latency-memory.png from pushmail-bench's results.json.

Left: cumulative distribution of push latency (ms from APPEND to the client showing the mail)
for the raw IDLE floor, pushmail-cli, the tray's Notify call and Mailnag's Notify call.
Right: idle resident memory against the number of accounts watched by one process.

Usage: plot.py RESULTS.json OUT.png
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def cdf(ax, values, label, **style):
    if not values:
        return
    xs = sorted(values)
    ys = [(i + 1) / len(xs) for i in range(len(xs))]
    ax.step(xs, ys, where="post", label=f"{label} (n={len(xs)})", **style)


def main():
    results_path, out = sys.argv[1], sys.argv[2]
    with open(results_path, encoding="utf-8") as f:
        r = json.load(f)
    fig, (lat, mem) = plt.subplots(1, 2, figsize=(13, 4.8), dpi=110)

    latency = r.get("latency", {})
    cli = latency.get("cli", {})
    cdf(lat, cli.get("floor_ms"), "raw IDLE client (floor)", color="0.55", linestyle="--")
    cdf(lat, cli.get("client_ms"), "pushmail-cli (JSON line)", color="tab:blue", linewidth=2)
    cdf(lat, latency.get("tray", {}).get("client_ms"), "pushmail tray (Notify call)", color="tab:green")
    cdf(lat, latency.get("mailnag", {}).get("client_ms"), "Mailnag 2.2 (Notify call)", color="tab:red")
    lat.set_xlabel("ms from APPEND to the client showing it")
    lat.set_ylabel("fraction of deliveries")
    lat.set_title("Push latency (Dovecot holds changes ~500 ms)")
    lat.grid(True, alpha=0.3)
    lat.legend(loc="lower right", fontsize=8)

    rows = r.get("footprint", {}).get("rows", [])
    for client, color, marker in (
        ("pushmail-cli", "tab:blue", "o"),
        ("pushmail (tray)", "tab:green", "s"),
        ("Mailnag 2.2", "tab:red", "^"),
    ):
        pts = sorted((row["accounts"], row["rss_mb"]) for row in rows if row["client"] == client)
        if not pts:
            continue
        xs, ys = zip(*pts)
        mem.plot(xs, ys, marker=marker, color=color, label=f"{client}, RSS")
        for x, y in pts:
            mem.annotate(f"{y:.1f}", (x, y), textcoords="offset points", xytext=(4, 5), fontsize=7)
        heap = sorted(
            (row["accounts"], row["anon_mb"])
            for row in rows
            if row["client"] == client and "anon_mb" in row
        )
        if heap and client != "Mailnag 2.2":
            hx, hy = zip(*heap)
            mem.plot(hx, hy, linestyle=":", color=color, label=f"{client}, of which heap")
    mem.set_xscale("log")
    mem.set_xlabel("accounts watched by one process")
    mem.set_ylabel("idle RSS (MB), all processes")
    mem.set_title("Idle memory by account count")
    mem.grid(True, which="both", alpha=0.3)
    mem.legend(loc="upper left", fontsize=8)

    m = r.get("machine", {})
    fig.suptitle(
        f"Pushmail benchmarks, {m.get('date', '?')}, {m.get('cores', '?')} shared cores, "
        f"Dovecot {m.get('dovecot', '?').split(' ')[0]}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    main()
