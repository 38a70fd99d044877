/**
 * Load mode (`--repeat N` and/or `--duration D`, with `--concurrency C`): C fibers send the
 * request over one pooled client (C sockets at most) and read each body to its end. The report:
 * requests/s, a latency histogram with p50 / p90 / p99 / max, status codes and error tags with
 * their counts, and the sockets opened.
 * @since 0.1.0
 */
import { Effect, Exit } from "effect"
import type { LoadSettings, Settings } from "./args.js"
import { makeClient, readBody, requestHeaders } from "./client.js"
import { formatMs } from "./duration.js"
import { exitCodeOf, type CliError } from "./errors.js"

/** What a run measured. */
export interface LoadReport {
  readonly requests: number
  readonly elapsedMs: number
  /** Latency of each completed exchange (request start → body end), ms, sorted. */
  readonly latencies: Float64Array
  readonly statuses: ReadonlyMap<number, number>
  readonly errors: ReadonlyMap<string, { count: number; first: CliError }>
  readonly socketsOpened: number
  /** `open` summed over the client's `stats()` at the end of the run. */
  readonly socketsOpenAtEnd: number
  /** CPU time of this process (user + system) during the run, ms. */
  readonly cpuMs: number
}

/** The value at quantile `q` of sorted samples (nearest rank). */
export const quantile = (sorted: Float64Array, q: number): number => {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]!
}

/** Runs the load. */
export const runLoad = (s: Settings, load: LoadSettings): Effect.Effect<LoadReport, CliError> =>
  Effect.gen(function* () {
    const body = yield* readBody(s)
    const counter = { opened: 0 }
    const client = yield* makeClient(s, counter, undefined, load.concurrency)
    const headers = requestHeaders(s)
    const latencies: Array<number> = []
    const statuses = new Map<number, number>()
    const errors = new Map<string, { count: number; first: CliError }>()
    let issued = 0
    const started = performance.now()
    const cpu0 = process.cpuUsage()
    const until = load.durationMs === undefined ? Number.POSITIVE_INFINITY : started + load.durationMs
    const more = () => (load.repeat === undefined || issued < load.repeat) && performance.now() < until
    const one = Effect.scoped(Effect.flatMap(client.request({ method: s.method, url: s.url, headers, body }), (res) => Effect.as(res.drain, res.status)))
    const worker = Effect.gen(function* () {
      while (more()) {
        issued++
        const t0 = performance.now()
        const exit = yield* Effect.exit(one)
        const dt = performance.now() - t0
        if (Exit.isSuccess(exit)) {
          latencies.push(dt)
          statuses.set(exit.value, (statuses.get(exit.value) ?? 0) + 1)
        } else {
          const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
          const tag = failure?._tag ?? "Defect"
          const entry = errors.get(tag)
          if (entry !== undefined) entry.count++
          else if (failure !== undefined) errors.set(tag, { count: 1, first: failure })
          if (failure === undefined) return yield* Effect.failCause(exit.cause)
        }
      }
    })
    // With a duration, interrupt exchanges still running at its end (a stalled server).
    const all = Effect.forEach(Array.from({ length: load.concurrency }), () => worker, { concurrency: "unbounded", discard: true })
    yield* load.durationMs === undefined ? all : Effect.timeout(all, load.durationMs + 1000).pipe(Effect.ignore)
    const elapsedMs = performance.now() - started
    const cpu = process.cpuUsage(cpu0)
    const sorted = Float64Array.from(latencies).sort()
    const socketsOpenAtEnd = client.stats().reduce((n, p) => n + p.open, 0)
    return { requests: latencies.length + [...errors.values()].reduce((n, e) => n + e.count, 0), elapsedMs, latencies: sorted, statuses, errors, socketsOpened: counter.opened, socketsOpenAtEnd, cpuMs: (cpu.user + cpu.system) / 1000 }
  }).pipe(Effect.scoped)

/** Log-spaced latency buckets between min and max, as text bars. */
const histogram = (sorted: Float64Array, rows = 10, width = 40): Array<string> => {
  if (sorted.length === 0) return []
  const min = Math.max(sorted[0]!, 0.001)
  const max = Math.max(sorted[sorted.length - 1]!, min * 1.0001)
  const edges = Array.from({ length: rows + 1 }, (_, i) => min * Math.pow(max / min, i / rows))
  const counts = new Array<number>(rows).fill(0)
  let b = 0
  for (const v of sorted) {
    while (b < rows - 1 && v > edges[b + 1]!) b++
    counts[b]!++
  }
  const top = Math.max(...counts)
  return counts.map((c, i) => {
    const label = `${formatMs(edges[i]!).padStart(9)} – ${formatMs(edges[i + 1]!).padEnd(9)}`
    const bar = "█".repeat(c === 0 ? 0 : Math.max(1, Math.round((c / top) * width)))
    return `  ${label} ${bar} ${c}`
  })
}

/** The report as text (stdout). */
export const formatReport = (s: Settings, load: LoadSettings, r: LoadReport): string => {
  const lines: Array<string> = []
  const rate = r.requests / (r.elapsedMs / 1000)
  lines.push(`${s.method} ${s.url}: ${r.requests} requests, concurrency ${load.concurrency}, ${formatMs(r.elapsedMs)}`)
  lines.push(`requests/s: ${rate.toFixed(1)}`)
  const l = r.latencies
  if (l.length > 0) {
    lines.push(`latency: p50 ${formatMs(quantile(l, 0.5))}  p90 ${formatMs(quantile(l, 0.9))}  p99 ${formatMs(quantile(l, 0.99))}  max ${formatMs(l[l.length - 1]!)}`)
    lines.push(...histogram(l))
  } else {
    lines.push("latency: no completed request")
  }
  const statuses = [...r.statuses].sort((a, b) => a[0] - b[0]).map(([code, n]) => `${code} × ${n}`)
  lines.push(`status: ${statuses.length === 0 ? "none" : statuses.join(", ")}`)
  const errors = [...r.errors].sort((a, b) => b[1].count - a[1].count).map(([tag, e]) => `${tag} × ${e.count}`)
  lines.push(`errors: ${errors.length === 0 ? "none" : errors.join(", ")}`)
  lines.push(`sockets opened: ${r.socketsOpened} (open at the end: ${r.socketsOpenAtEnd})`)
  // The client's own cost: near 100% of a core, the client (not the server) sets the rate.
  if (r.requests > 0) {
    lines.push(`client CPU: ${((r.cpuMs * 1000) / r.requests).toFixed(0)} µs per request, ${((r.cpuMs / r.elapsedMs) * 100).toFixed(0)}% of one core`)
  }
  return lines.join("\n") + "\n"
}

/**
 * The exit code of a run: the most frequent error's (see the exit-code table), 22 with `--fail`
 * when a status of 400 or more came back, else 0.
 */
export const loadExitCode = (s: Settings, r: LoadReport): number => {
  const worst = [...r.errors.values()].sort((a, b) => b.count - a.count)[0]
  if (worst !== undefined) return exitCodeOf(worst.first)
  if (s.fail && [...r.statuses.keys()].some((c) => c >= 400)) return 22
  return 0
}
