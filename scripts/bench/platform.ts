/**
 * Platform section: `@effect/platform`'s `HttpClient` on our engine (`PlatformHttpClient`) against
 * `@effect/platform-node`'s own clients, `NodeHttpClient.layerUndici` (the reference of issue 9)
 * and `NodeHttpClient.layer` (node:http), plus our native `HttpClient` for scale.
 *
 * Every platform contender runs the same program: N fibers in one `Effect.runPromise`, each
 * looping `HttpClient.get(url)` + `res.arrayBuffer` (no `Effect.scoped`, as platform code is
 * usually written). Bodies: the canned 13-byte response, 64 KiB and 1 MiB (`/big/<n>`).
 *
 * Besides req/s (wall clock, noisy on a shared machine) each row has the client process's CPU time
 * per request over the same window (`process.cpuUsage`), steadier between runs.
 *
 * `runPlatformBench(options)` returns the rows; `platformSections(rows)` renders them.
 * Run alone: `tsx scripts/bench/platform.ts` (forks the bench server; `BENCH_QUICK=1` for short).
 */
import { HttpClient as PlatformClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { fileURLToPath } from "node:url"
import { bestOfRounds, type BenchTiming, type Outcome } from "./connection.js"
import { lib, libSource } from "./lib.js"
import { forkServer } from "./servers.js"
import { fmtNum, markdownTable, type Section } from "./table.js"

const { HttpClient, PlatformHttpClient, Transport } = lib

const HOST = "127.0.0.1"

/** A response body size of the bench server: the canned 13 bytes, or `/big/<bytes>`. */
export interface PlatformBodySize {
  readonly label: string
  /** `undefined` for the canned response. */
  readonly bytes: number | undefined
}

export const SMALL: PlatformBodySize = { label: "13 B", bytes: undefined }
export const KIB64: PlatformBodySize = { label: "64 KiB", bytes: 65_536 }
export const MIB1: PlatformBodySize = { label: "1 MiB", bytes: 1_048_576 }

export interface PlatformBenchOptions {
  /** Port of the bench server (scripts/bench/servers.ts) on 127.0.0.1. */
  readonly port: number
  readonly timing: BenchTiming
  readonly log?: ((s: string) => void) | undefined
  /** Concurrent callers (and pool sizes); default `[1, 16]`. */
  readonly levels?: ReadonlyArray<number> | undefined
  /** Default: 13 B, 64 KiB, 1 MiB. */
  readonly sizes?: ReadonlyArray<PlatformBodySize> | undefined
  /** Rounds per cell (best kept); default 3, 1 when `timing.quick`. */
  readonly rounds?: number | undefined
  /** Only these contenders (by name); default all. */
  readonly only?: ReadonlyArray<string> | undefined
}

/** One measured cell: a contender at one body size and concurrency. */
export interface PlatformRow {
  readonly client: string
  readonly body: string
  readonly connections: number
  /** Requests per second (best round), or why it did not run. */
  readonly reqPerSec: Outcome
  /** CPU time (user + system) of this process per request, in the best round. */
  readonly cpuUsPerReq: number | undefined
}

export const PLATFORM_OURS = "PlatformHttpClient (effect-http1)"
export const PLATFORM_UNDICI = "@effect/platform-node NodeHttpClient.layerUndici"
export const PLATFORM_NODE = "@effect/platform-node NodeHttpClient.layer (node:http)"
export const NATIVE_OURS = "effect-http1 HttpClient (native, for scale)"

interface Measured {
  readonly rate: number
  readonly cpuUs: number
}

/**
 * N fibers looping `one`; the window is cut by timers (so every caller's completions count), and
 * the CPU time of the process over the window is taken with it.
 */
const measureFibers = <E, R>(n: number, one: Effect.Effect<unknown, E, R>, t: BenchTiming): Effect.Effect<Measured, E, R> =>
  Effect.suspend(() => {
    let count = 0
    let stop = false
    let start: { count: number; at: number; cpu: NodeJS.CpuUsage } | undefined
    let end: { count: number; at: number; cpu: NodeJS.CpuUsage } | undefined
    const t1 = setTimeout(() => {
      start = { count, at: performance.now(), cpu: process.cpuUsage() }
    }, t.warmupMs)
    const t2 = setTimeout(() => {
      end = { count, at: performance.now(), cpu: process.cpuUsage() }
      stop = true
    }, t.warmupMs + t.durationMs)
    const loop = Effect.whileLoop({
      while: () => !stop,
      body: () => one,
      step: () => {
        count++
      }
    })
    return Effect.forEach(Array.from({ length: n }), () => loop, { concurrency: "unbounded", discard: true }).pipe(
      Effect.ensuring(
        Effect.sync(() => {
          clearTimeout(t1)
          clearTimeout(t2)
        })
      ),
      Effect.map(() => {
        if (start === undefined || end === undefined) return { rate: 0, cpuUs: Number.NaN }
        const done = end.count - start.count
        const cpu = end.cpu.user - start.cpu.user + (end.cpu.system - start.cpu.system)
        return { rate: done / ((end.at - start.at) / 1000), cpuUs: done > 0 ? cpu / done : Number.NaN }
      })
    )
  })

const urlOf = (port: number, size: PlatformBodySize) => `http://${HOST}:${port}/${size.bytes === undefined ? "" : `big/${size.bytes}`}`

const viaPlatform = (layer: Layer.Layer<PlatformClient.HttpClient>, n: number, url: string, t: BenchTiming): Promise<Measured> =>
  Effect.gen(function* () {
    const client = yield* PlatformClient.HttpClient
    return yield* measureFibers(n, Effect.flatMap(client.get(url), (res) => res.arrayBuffer), t)
  }).pipe(Effect.provide(layer), Effect.runPromise)

const native = (n: number, url: string, t: BenchTiming): Promise<Measured> =>
  Effect.gen(function* () {
    const client = yield* HttpClient.make({ maxConnectionsPerOrigin: n, maxBodySize: 64 << 20 })
    return yield* measureFibers(n, Effect.scoped(Effect.flatMap(client.get(url), (res) => res.bytes)), t)
  }).pipe(Effect.scoped, Effect.provide(Transport.layer), Effect.runPromise)

/** Our adapter with a pool of N (and bodies up to 64 MiB), built the way the library allows today. */
const oursLayer = (n: number): Layer.Layer<PlatformClient.HttpClient> => {
  const options = { maxConnectionsPerOrigin: n, maxBodySize: 64 << 20 }
  return PlatformHttpClient.layerWith(options) as Layer.Layer<PlatformClient.HttpClient>
}

const contenders: ReadonlyArray<readonly [string, (n: number, url: string, t: BenchTiming) => Promise<Measured>]> = [
  [PLATFORM_OURS, (n, url, t) => viaPlatform(oursLayer(n), n, url, t)],
  [PLATFORM_UNDICI, (n, url, t) => viaPlatform(NodeHttpClient.layerUndici, n, url, t)],
  [PLATFORM_NODE, (n, url, t) => viaPlatform(NodeHttpClient.layer, n, url, t)],
  [NATIVE_OURS, (n, url, t) => native(n, url, t)]
]

/** Runs every contender at every size and concurrency (contenders taking turns per round). */
export const runPlatformBench = async (options: PlatformBenchOptions): Promise<Array<PlatformRow>> => {
  const log = options.log ?? (() => {})
  const levels = options.levels ?? [1, 16]
  const sizes = options.sizes ?? [SMALL, KIB64, MIB1]
  const rounds = options.rounds ?? (options.timing.quick ? 1 : 3)
  const chosen = options.only === undefined ? contenders : contenders.filter(([name]) => options.only!.some((o) => name.includes(o)))
  const rows: Array<PlatformRow> = []
  for (const size of sizes) {
    const url = urlOf(options.port, size)
    for (const n of levels) {
      log(`platform: ${size.label}, ${n} connection(s) (${rounds} round(s))`)
      const cpu = new Map<string, number>()
      const best = await bestOfRounds(
        chosen.map(
          ([name, run]) =>
            [
              name,
              async (rt: BenchTiming): Promise<Outcome> => {
                const m = await run(n, url, rt)
                const prev = cpu.get(name)
                if (prev === undefined || m.cpuUs < prev) cpu.set(name, m.cpuUs)
                return m.rate
              }
            ] as const
        ),
        options.timing,
        rounds,
        log
      )
      for (const [name] of chosen) {
        rows.push({ client: name, body: size.label, connections: n, reqPerSec: best.get(name) ?? "not run", cpuUsPerReq: cpu.get(name) })
      }
    }
  }
  return rows
}

const ratioText = (a: number | undefined, b: number | undefined, invert = false): string | undefined => {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || a === 0 || b === 0) return undefined
  return `${(invert ? b / a : a / b).toFixed(2)}×`
}

/** The rows as one markdown table (ratios to `NodeHttpClient.layerUndici` in the same cell). */
export const platformSections = (rows: ReadonlyArray<PlatformRow>, timing?: BenchTiming, rounds?: number): Array<Section> => {
  const reference = (r: PlatformRow) =>
    rows.find((x) => x.client === PLATFORM_UNDICI && x.body === r.body && x.connections === r.connections)
  const num = (o: Outcome | undefined) => (typeof o === "number" ? o : undefined)
  const table = markdownTable(
    ["client", "body", "conns", "req/s", "vs layerUndici (req/s)", "CPU µs/req", "vs layerUndici (CPU)"],
    rows.map((r) => {
      const ref = reference(r)
      return [
        r.client,
        r.body,
        String(r.connections),
        typeof r.reqPerSec === "number" ? fmtNum(r.reqPerSec) : r.reqPerSec,
        ratioText(num(r.reqPerSec), num(ref?.reqPerSec)),
        r.cpuUsPerReq,
        ratioText(r.cpuUsPerReq, ref?.cpuUsPerReq, true)
      ]
    })
  )
  const n = rounds ?? (timing?.quick === true ? 1 : 3)
  const window =
    timing === undefined ? "" : ` (${n} round(s) of ${timing.durationMs / n / 1000} s, warm-up ${timing.warmupMs / 1000} s before the first)`
  return [
    {
      title: "@effect/platform HttpClient: ours vs @effect/platform-node's",
      table,
      notes: [
        `N fibers in one \`Effect.runPromise\`, each looping \`client.get(url)\` + \`res.arrayBuffer\`${window}; best round of each contender, contenders taking turns`,
        "ours: `PlatformHttpClient.layerWith({ maxConnectionsPerOrigin: N })`; layerUndici: its own undici `Agent` (unlimited connections per origin); NodeHttpClient.layer: its own `http.Agent`",
        "CPU µs/req: user + system CPU time of the client process over the window divided by the requests completed in it; the \"vs\" columns are >1 when ours is faster / cheaper",
        `effect-http1 loaded from ${libSource}`
      ]
    }
  ]
}

// Alone: `tsx scripts/bench/platform.ts [small|64k|1m ...]`.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.env.BENCH_QUICK === "1"
  const timing: BenchTiming = quick ? { warmupMs: 500, durationMs: 1000, quick } : { warmupMs: 1000, durationMs: 3000, quick }
  const pick = process.argv.slice(2)
  const all: Record<string, PlatformBodySize> = { small: SMALL, "64k": KIB64, "1m": MIB1 }
  const sizes = pick.length === 0 ? undefined : pick.map((p) => all[p]).filter((s): s is PlatformBodySize => s !== undefined)
  const only = process.env.BENCH_ONLY?.split(",")
  const server = await forkServer()
  try {
    const rows = await runPlatformBench({
      port: server.port,
      timing,
      sizes,
      only,
      log: (s) => console.error(s)
    })
    for (const s of platformSections(rows, timing)) console.log(`\n### ${s.title}\n\n${s.table}\n${(s.notes ?? []).map((n) => `- ${n}`).join("\n")}`)
  } finally {
    await server.close()
  }
}
