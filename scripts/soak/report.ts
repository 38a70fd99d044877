/**
 * The soak's report: one markdown table (a column per client and a total), the offending
 * requests under it, and optionally the outcomes per fault.
 */
import { fmtNum, markdownTable, type Cell } from "../bench/table.js"
import { FAULTS } from "./faults.js"
import { MUST_BE_ZERO, type SoakResult } from "./run.js"

/** Counts as integers (the bench's fmtNum shows 3 significant digits). */
const int = (n: number): string => n.toLocaleString("en-US")

const mb = (n: number | undefined) => (n === undefined ? "n/a" : `${n.toFixed(1)} MB`)

export const renderReport = (r: SoakResult, options: { readonly byFault?: boolean } = {}): string => {
  const cols = r.clients.map((c) => c.client)
  const headers = ["", ...cols.map((c) => `${c} (${c === "platform" ? "PlatformHttpClient" : `pipelining ${String(r.clients.find((x) => x.client === c)?.options.pipelining)}`})`), "total"]
  const rows: Array<Array<Cell>> = []
  const row = (label: string, f: (c: SoakResult["clients"][number]) => number, total: number) =>
    rows.push([label, ...r.clients.map((c) => int(f(c))), int(total)])
  row("requests", (c) => c.requests, r.totals.requests)
  row("completed (ok)", (c) => c.ok, r.totals.ok)
  row("interrupted (by the soak)", (c) => c.interrupted, r.totals.interrupted)
  row("failures", (c) => c.failed, r.totals.failed)
  const keys = Object.keys(r.totals.failures).sort((a, b) => r.totals.failures[b]! - r.totals.failures[a]!)
  for (const k of keys) row(`  ${k}`, (c) => c.failures[k] ?? 0, r.totals.failures[k]!)
  row("healthy requests that failed (info)", (c) => c.healthyFailed, r.totals.healthyFailed)
  row("requests sent more than 3 times (retry storm; info)", (c) => c.sentMoreThan3Times, r.totals.sentMoreThan3Times)
  row("most sends of one request (info)", (c) => c.mostSends, r.totals.mostSends)
  const flag = (n: number) => (n === 0 ? "0" : `**${int(n)}** ✗`)
  for (const [k, label] of MUST_BE_ZERO) {
    rows.push([
      `${label} — must be 0`,
      ...r.clients.map((c) => flag(c[k])),
      flag(r.totals[k])
    ])
  }
  row("sockets accepted by the servers (info)", (c) => c.socketsAccepted, r.clients.reduce((s, c) => s + c.socketsAccepted, 0))
  rows.push(["event-loop delay p99 / max (info)", ...cols.map(() => undefined), `${r.eventLoopDelay.p99Ms.toFixed(0)} / ${r.eventLoopDelay.maxMs.toFixed(0)} ms`])
  rows.push(["heap at start, after GC", ...cols.map(() => undefined), mb(r.heap.startAfterGcMb)])
  rows.push(["heap at end, before GC", ...cols.map(() => undefined), mb(r.heap.endBeforeGcMb)])
  rows.push(["heap at end, after GC", ...cols.map(() => undefined), mb(r.heap.endAfterGcMb)])

  const out: Array<string> = []
  out.push(
    `## effect-http1 soak — ${r.passed ? "PASS" : "FAIL"}`,
    "",
    `${fmtNum(r.durationMs / 1000)} s of requests (${fmtNum(r.elapsedMs / 1000)} s in all), ${r.concurrency} callers per client, seed ${r.seed}; ` +
      `headersTimeout ${r.timeouts.headersTimeoutMs} ms, bodyTimeout ${r.timeouts.bodyTimeoutMs} ms, timeout ${r.timeouts.timeoutMs} ms, watchdog ${r.timeouts.watchdogMs} ms; GC: ${r.heap.gc}`,
    "",
    `Node ${r.machine.node}, ${r.machine.cpus} CPUs, load average ${r.machine.loadAverage.map((l) => l.toFixed(2)).join(" / ")} at the end.`,
    "",
    markdownTable(headers, rows)
  )
  const samples = r.clients.flatMap((c) => c.samples)
  if (r.processErrors.length > 0 || samples.length > 0) {
    out.push("", "Offending requests (first few per client):")
    for (const s of samples) out.push(`- ${s.client} ${s.id} [${s.fault}/${s.action}]: ${s.detail}`)
    for (const e of r.processErrors) out.push(`- process: ${e.split("\n")[0]}`)
  }
  const healthy = r.clients.flatMap((c) => c.healthySamples)
  if (healthy.length > 0) {
    out.push("", "Healthy requests that failed, and requests sent more than 3 times (first few per client; informational — a fault on a shared socket, or a bug):")
    for (const s of healthy) out.push(`- ${s.client} ${s.id} [${s.fault}/${s.action}]: ${s.detail}`)
  }
  if (options.byFault === true) {
    for (const c of r.clients) {
      out.push("", `### ${c.client}: outcomes per fault`, "")
      out.push(
        markdownTable(
          ["fault", "requests", "ok", "interrupted", "wrong", "defects", "hangs", "failures"],
          FAULTS.filter((f) => c.byFault[f] !== undefined).map((f) => {
            const x = c.byFault[f]!
            const fails = Object.entries(x.failures)
              .sort((a, b) => b[1] - a[1])
              .map(([k, v]) => `${k} ${v}`)
              .join(", ")
            return [f, ...[x.requests, x.ok, x.interrupted, x.wrong, x.defects, x.hangs].map(int), fails === "" ? "—" : fails]
          })
        )
      )
    }
  }
  return out.join("\n")
}
