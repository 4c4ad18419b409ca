"""The markdown table of bench_attack_targets.py (the issue's targets beside the figures)."""

from __future__ import annotations


def _t(s: dict, key: str) -> str:
    return f"{s[key + '_ms']:.1f} ms ({s[key + '_u']:.0f}u)"


def _row(what: str, s: dict, target: str) -> str:
    return f"| {what} | {_t(s, 'median')} | {_t(s, 'p95')} | {_t(s, 'max')} | {target} |"


def table(r: dict) -> str:
    u = r["u_seconds"]
    onednn = {"on": "oneDNN convolutions on (torch's default)", "off": "oneDNN convolutions off (as the window and the CLI run)"}
    lines = [f"Run {r['label'] or '(unlabelled)'} started {r['started']}, torch {r['torch']}, {r['cpu']}, one torch thread, "
             f"{onednn.get(r.get('onednn', 'on'), '')}. "
             f"u = one forward+backward of cnn on one image: median {u['median_ms']:.3f} ms "
             f"(p5-p95 {u['p5_ms']:.3f}-{u['p95_ms']:.3f}, {u['n']} samples over the run). "
             f"Load average (1 min) at the start and after each model: {r['load_average']} (2 cores).", ""]
    for name, m in r["models"].items():
        lines += [f"### {name}: {m['digits']} test digits x 9 targets = {m['pairs']} pairs", "",
                  "| measure | median | p95 | max | target |", "|---|---|---|---|---|",
                  _row("one image per call, minimal mode, every target", m["single"]["time"], "median <= 150u, p95 <= 400u"),
                  _row("untargeted, one image per call", m["untargeted"]["time"], "median <= 150u, p95 <= 400u"),
                  _row(f"slider: fixed c warm-started from a result at c x 1.1 or / 1.1 ({m['slider']['time']['n']} steps)",
                       m["slider"]["time"], "median <= 15u")]
        b = m["batch"]
        ddn = f"; DDN-100 {_t(b['ddn100_per_pair'], 'median')}, ratio {b['over_ddn100']:.2f}" if "over_ddn100" in b else ""
        if "cpu_over_ddn100" in b:
            ddn += f" (CPU time ratio {b['cpu_over_ddn100']:.2f})"
        lines.append(f"| all {m['pairs']} pairs in one batch, per pair | {_t(b['per_pair'], 'median')}{ddn} | | | <= 1.0x DDN-100 |")
        bl = m["batch_large"]
        lines.append(f"| batch of {bl['pairs']} pairs (child process), per pair | {_t(bl['per_pair'], 'median')}; peak RSS "
                     f"{bl['peak_rss_mb']:.0f} MB ({bl['rss_before_mb']:.0f} MB before the call) | | | |")
        if "drawn" in m:
            d = m["drawn"]
            lines.append(_row(f"window's minimal c on the drawn digits, every target and any other class ({d['time']['n']} calls)",
                              d["time"], ""))
            lines.append(_row("... of which any other class", d["time_untargeted"], ""))
        ev = m["single"]["evaluations"]
        lines += ["", f"Success: one image {m['single']['success']:.0%}, batch {b['success']:.0%}, untargeted "
                  f"{m['untargeted']['success']:.0%}, batch of {bl['pairs']} {bl['success']:.0%}"
                  + (f", drawn digits {m['drawn']['success']:.0%}" if "drawn" in m else "") + ". "
                  f"Evaluations per single call (forward+backward per image): median {ev['median']:.0f}, p95 {ev['p95']:.0f}, max {ev['max']:.0f}."]
        ub = m["untargeted"]["l2_over_best_targeted"]
        lines.append(f"Untargeted L2 over the smallest of the 9 targeted answers: median {ub['median']:.5f}, max {ub['max']:.4f}.")
        if "quality" in m:
            q = m["quality"]
            lines.append("L2 over the best of DDN-1000 and FMN-1000, per pair: one image per call median "
                         f"{q['single']['median']:.5f}, p95 {q['single']['p95']:.5f}, max {q['single']['max']:.4f}; batch median "
                         f"{q['batch']['median']:.5f}, p95 {q['batch']['p95']:.5f}, max {q['batch']['max']:.4f} (targets: median "
                         "<= 1.0, p95 <= 1.01).")
            lines.append("Peers on the same pairs, one batch each: " + "; ".join(
                f"{k} {v['seconds'] / m['pairs'] * 1e3:.1f} ms/pair, success {v['success']:.0%}, median L2 {v['l2_median']:.4f}"
                for k, v in m["peers"].items()) + ".")
        lines.append("")
    for name, q in r.get("qp", {}).items():
        e = q["l2_over_qp"]
        lines.append(f"QP exactness, {name}: {q['pairs']} pairs, success {q['success']:.0%}, L2 over the exact minimum "
                     f"median {e['median']:.5f}, p95 {e['p95']:.5f}, max {e['max']:.4f} (target: median <= 1.001).")
    lines.append("")
    return "\n".join(lines) + "\n"
