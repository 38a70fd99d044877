/**
 * Connection section: one kept-alive connection, requests one after the other.
 *
 * - req/s for a small GET: ours (HttpConnection, one `Effect.runPromise` for the whole loop),
 *   undici 7 `Client`, node:http with a keep-alive Agent (maxSockets 1);
 * - MB/s for a 64 MiB body (ours read through `res.read(65536)` and through `res.stream`);
 * - peak RSS while streaming 1 GiB with ours, in a child process of its own.
 */
import { fork } from "node:child_process"
import { existsSync } from "node:fs"
import * as http from "node:http"
import { fileURLToPath } from "node:url"
import { Effect, Exit, Scope, Stream } from "effect"
import { Client } from "undici"
import type * as Src from "../../src/index.js"
import { lib } from "./lib.js"

const { HttpConnection, Transport } = lib
type Conn = Src.HttpConnection.HttpConnection
import { fmtNum, markdownTable, ratio, type Section } from "./table.js"

export interface BenchTiming {
  /** Warm-up before counting. */
  readonly warmupMs: number
  /** Counting window. */
  readonly durationMs: number
  readonly quick: boolean
}

const HOST = "127.0.0.1"
const BIG = 64 * 1024 * 1024
const HUGE = 1024 * 1024 * 1024

// ---------------------------------------------------------------------------------------------
// req/s, one connection
// ---------------------------------------------------------------------------------------------

/** Sequential promise loop: warm-up, then requests completed per second in the window. */
export const timedLoop = async (one: () => Promise<void>, t: BenchTiming): Promise<number> => {
  const warmEnd = performance.now() + t.warmupMs
  while (performance.now() < warmEnd) await one()
  let n = 0
  const start = performance.now()
  const end = start + t.durationMs
  let now = start
  while (now < end) {
    await one()
    n++
    now = performance.now()
  }
  return n / ((now - start) / 1000)
}

/** The timing of round `i` of `rounds`: the window split evenly, a full warm-up only in the first. */
export const roundTiming = (t: BenchTiming, i: number, rounds: number): BenchTiming => ({
  quick: t.quick,
  warmupMs: i === 0 ? t.warmupMs : Math.min(t.warmupMs, 200),
  durationMs: t.durationMs / rounds
})

export type Outcome = number | string

/**
 * Runs every contender for one window per round, round-robin (so that a load spike on this
 * machine hits all of them alike), and keeps each one's best round. A failure is kept as a string.
 */
export const bestOfRounds = async (
  contenders: ReadonlyArray<readonly [string, (t: BenchTiming) => Promise<Outcome>]>,
  t: BenchTiming,
  rounds: number,
  log: (s: string) => void
): Promise<Map<string, Outcome>> => {
  const best = new Map<string, Outcome>()
  for (let i = 0; i < rounds; i++) {
    for (const [name, run] of contenders) {
      if (typeof best.get(name) === "string") continue
      let r: Outcome
      try {
        r = await run(roundTiming(t, i, rounds))
      } catch (e) {
        r = `failed: ${(e instanceof Error ? e.message : String(e)).slice(0, 80)}`
      }
      log(`  round ${i + 1}/${rounds} ${name}: ${typeof r === "number" ? fmtNum(r) : r}`)
      const prev = best.get(name)
      if (prev === undefined || typeof r === "string" || (typeof prev === "number" && r > prev)) best.set(name, r)
    }
  }
  return best
}

const oursRps = (port: number, t: BenchTiming): Promise<number> =>
  Effect.gen(function* () {
    const conn = yield* HttpConnection.make({ host: HOST, port, timeout: "10 seconds" })
    const one = Effect.zipRight(
      conn.request("GET", "/"),
      Effect.flatMap(conn.getResponse, (res) => res.read())
    )
    const warmEnd = performance.now() + t.warmupMs
    while (performance.now() < warmEnd) yield* one
    let n = 0
    const start = performance.now()
    const end = start + t.durationMs
    let now = start
    while (now < end) {
      yield* one
      n++
      now = performance.now()
    }
    return n / ((now - start) / 1000)
  }).pipe(Effect.scoped, Effect.provide(Transport.layer), Effect.runPromise)

const undiciRps = async (port: number, t: BenchTiming): Promise<number> => {
  const client = new Client(`http://${HOST}:${port}`, { pipelining: 1 })
  try {
    return await timedLoop(async () => {
      const { body } = await client.request({ path: "/", method: "GET" })
      await body.arrayBuffer()
    }, t)
  } finally {
    await client.close()
  }
}

/** A GET with node:http, the body collected. */
export const nodeGet = (agent: http.Agent, port: number, path: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port, path, agent }, (res) => {
      let n = 0
      res.on("data", (c: Buffer) => {
        n += c.length
      })
      res.on("end", () => resolve(n))
      res.on("error", reject)
    })
    req.on("error", reject)
  })

const nodeRps = async (port: number, t: BenchTiming): Promise<number> => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  try {
    return await timedLoop(async () => {
      const parts: Array<Buffer> = []
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ host: HOST, port, path: "/", agent }, (res) => {
          res.on("data", (c: Buffer) => parts.push(c))
          res.on("end", () => resolve())
          res.on("error", reject)
        })
        req.on("error", reject)
      })
      Buffer.concat(parts)
    }, t)
  } finally {
    agent.destroy()
  }
}

// ---------------------------------------------------------------------------------------------
// MB/s, 64 MiB
// ---------------------------------------------------------------------------------------------

/** A client with one open connection that downloads `/big/<size>` and resolves with the byte count. */
interface Downloader {
  readonly download: () => Promise<number>
  readonly close: () => Promise<void>
}

/** Ours, one connection: the body read with `res.read(65536)` until it is empty. */
const oursReadLoop = (conn: Conn, path: string) =>
  Effect.gen(function* () {
    yield* conn.request("GET", path)
    const res = yield* conn.getResponse
    let n = 0
    while (true) {
      const b = yield* res.read(65536)
      if (b.length === 0) break
      n += b.length
    }
    return n
  })

/** Ours, one connection: the body read through `res.stream`; dies if it yields more than `size` bytes. */
const oursStream = (conn: Conn, path: string, size: number) =>
  Effect.gen(function* () {
    yield* conn.request("GET", path)
    const res = yield* conn.getResponse
    return yield* res.stream.pipe(
      Stream.runFoldEffect(0, (n, chunk) => {
        const m = n + chunk.length
        return m > size ? Effect.dieMessage(`res.stream yielded more than the ${size} bytes the server sent`) : Effect.succeed(m)
      })
    )
  })

const oursDownloader = async (port: number, size: number, mode: "read" | "stream"): Promise<Downloader> => {
  const scope = Effect.runSync(Scope.make())
  const conn = await Effect.runPromise(
    HttpConnection.make({ host: HOST, port, timeout: "30 seconds" }).pipe(Scope.extend(scope), Effect.provide(Transport.layer))
  )
  const path = `/big/${size}`
  const one = mode === "read" ? oursReadLoop(conn, path) : oursStream(conn, path, size)
  return {
    download: () => Effect.runPromise(one),
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

const undiciDownloader = async (port: number, size: number): Promise<Downloader> => {
  const client = new Client(`http://${HOST}:${port}`, { pipelining: 1 })
  return {
    download: async () => {
      const { body } = await client.request({ path: `/big/${size}`, method: "GET" })
      let n = 0
      for await (const c of body) n += (c as Buffer).length
      return n
    },
    close: () => client.close()
  }
}

const nodeDownloader = async (port: number, size: number): Promise<Downloader> => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  return {
    download: () => nodeGet(agent, port, `/big/${size}`),
    close: async () => agent.destroy()
  }
}

/**
 * Opens every contender, downloads once each to warm up, then `runs` rounds of one download per
 * contender (round-robin); the median MB/s of each.
 */
const throughputs = async (
  contenders: ReadonlyArray<readonly [string, () => Promise<Downloader>]>,
  size: number,
  runs: number,
  log: (s: string) => void
): Promise<Map<string, Outcome>> => {
  const out = new Map<string, Outcome>()
  const open = new Map<string, Downloader>()
  const rates = new Map<string, Array<number>>()
  const fail = (name: string, e: unknown) => {
    out.set(name, `failed: ${(e instanceof Error ? e.message : String(e)).slice(0, 80)}`)
    const d = open.get(name)
    open.delete(name)
    return d?.close().catch(() => {})
  }
  try {
    for (const [name, make] of contenders) {
      try {
        const d = await make()
        open.set(name, d)
        const n = await d.download()
        if (n !== size) throw new Error(`received ${n} bytes, expected ${size}`)
        rates.set(name, [])
      } catch (e) {
        await fail(name, e)
      }
    }
    for (let i = 0; i < runs; i++) {
      for (const [name, d] of Array.from(open)) {
        try {
          const t0 = performance.now()
          const n = await d.download()
          const sec = (performance.now() - t0) / 1000
          if (n !== size) throw new Error(`received ${n} bytes, expected ${size}`)
          rates.get(name)!.push(n / 1e6 / sec)
          log(`  run ${i + 1}/${runs} ${name}: ${fmtNum(n / 1e6 / sec)} MB/s`)
        } catch (e) {
          await fail(name, e)
        }
      }
    }
  } finally {
    await Promise.all(Array.from(open.values(), (d) => d.close().catch(() => {})))
  }
  for (const [name, r] of rates) {
    if (out.has(name) || r.length === 0) continue
    r.sort((a, b) => a - b)
    out.set(name, r[Math.floor(r.length / 2)]!)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Peak RSS while streaming 1 GiB (child process)
// ---------------------------------------------------------------------------------------------

type RssMode = "read" | "stream" | "undici" | "node"

export interface RssResult {
  readonly mode: RssMode
  readonly ok: boolean
  readonly baselineMiB: number
  readonly peakMiB: number
  readonly seconds: number
  readonly bytes: number
  readonly error?: string | undefined
}

const runRssChild = async (port: number, mode: RssMode): Promise<RssResult> => {
  const baseline = process.memoryUsage().rss
  let peak = baseline
  const sampler = setInterval(() => {
    const r = process.memoryUsage().rss
    if (r > peak) peak = r
  }, 50)
  const t0 = performance.now()
  let bytes = 0
  let error: string | undefined
  try {
    const d =
      mode === "undici" ? await undiciDownloader(port, HUGE) : mode === "node" ? await nodeDownloader(port, HUGE) : await oursDownloader(port, HUGE, mode)
    try {
      bytes = await d.download()
    } finally {
      await d.close()
    }
  } catch (e) {
    error = (e instanceof Error ? e.message : String(e)).slice(0, 200)
  }
  const seconds = (performance.now() - t0) / 1000
  clearInterval(sampler)
  const r = process.memoryUsage().rss
  if (r > peak) peak = r
  const MiB = 1024 * 1024
  return { mode, ok: error === undefined && bytes === HUGE, baselineMiB: baseline / MiB, peakMiB: peak / MiB, seconds, bytes, error }
}

/**
 * The RSS child runs on plain `node` from a bundle of this module (our code bundled by esbuild,
 * packages such as effect and undici loaded from node_modules as an application would), so that
 * tsx's in-process compiler and source maps are not counted. Falls back to `--import tsx`.
 */
const childEntry = async (log: (s: string) => void): Promise<{ file: string; execArgv: Array<string>; how: string }> => {
  const self = fileURLToPath(import.meta.url)
  const out = fileURLToPath(new URL("../../.bench/rss-child.mjs", import.meta.url))
  try {
    const esbuild = (await import("esbuild")) as typeof import("esbuild")
    await esbuild.build({
      entryPoints: [self],
      outfile: out,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      logLevel: "silent"
    })
    if (existsSync(out)) return { file: out, execArgv: [], how: "plain node on an esbuild bundle of our code (packages from node_modules)" }
  } catch (e) {
    log(`  esbuild bundle failed (${String(e).slice(0, 100)}); the child runs under tsx`)
  }
  return { file: self, execArgv: ["--import", "tsx"], how: "node --import tsx (tsx's compiler counts in the RSS)" }
}

/** Forks a child that streams 1 GiB from `port` and reports its peak RSS. */
const forkRss = (entry: { file: string; execArgv: Array<string> }, port: number, mode: RssMode, limitMs: number): Promise<RssResult> =>
  new Promise((resolve) => {
    const child = fork(entry.file, [], {
      execArgv: entry.execArgv,
      env: { ...process.env, BENCH_RSS_CHILD: "1", BENCH_RSS_PORT: String(port), BENCH_RSS_MODE: mode },
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    const fail = (error: string): RssResult => ({ mode, ok: false, baselineMiB: 0, peakMiB: 0, seconds: 0, bytes: 0, error })
    let result: RssResult | undefined
    const timer = setTimeout(() => {
      result ??= fail(`no result within ${limitMs / 1000} s`)
      child.kill("SIGKILL")
    }, limitMs)
    child.on("message", (m) => {
      result = m as RssResult
    })
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve(result ?? fail(`child exited with code ${code}`))
    })
  })

if (process.env.BENCH_RSS_CHILD === "1" && typeof process.send === "function") {
  const m = process.env.BENCH_RSS_MODE
  const mode: RssMode = m === "stream" || m === "undici" || m === "node" ? m : "read"
  void runRssChild(Number(process.env.BENCH_RSS_PORT), mode).then((r) => {
    process.send!(r, () => process.exit(0))
  })
}

// ---------------------------------------------------------------------------------------------
// The section
// ---------------------------------------------------------------------------------------------

const num = (x: Outcome | undefined): number | undefined => (typeof x === "number" ? x : undefined)
const cell = (x: Outcome | undefined): string | undefined => (x === undefined ? undefined : typeof x === "number" ? fmtNum(x) : x)

const RSS_LABEL: Record<RssMode, string> = {
  read: "effect-http1 `res.read(65536)` loop",
  stream: "effect-http1 `res.stream`",
  undici: "undici 7 Client (`for await` of body), for reference",
  node: "node:http ('data' events), for reference"
}

export const runConnectionBench = async (port: number, t: BenchTiming, log: (s: string) => void): Promise<Array<Section>> => {
  const rounds = t.quick ? 1 : 3
  log(`connection: req/s, one kept-alive connection (${rounds} round(s))`)
  const OURS = "effect-http1 HttpConnection"
  const UNDICI = "undici 7 Client"
  const NODE = "node:http Agent keepAlive, maxSockets 1"
  const rps = await bestOfRounds(
    [
      [OURS, (rt) => oursRps(port, rt)],
      [UNDICI, (rt) => undiciRps(port, rt)],
      [NODE, (rt) => nodeRps(port, rt)]
    ],
    t,
    rounds,
    log
  )
  const rpsTable = markdownTable(
    ["client (one connection, sequential)", "req/s", "vs undici"],
    [OURS, UNDICI, NODE].map((n) => [n, cell(rps.get(n)), ratio(num(rps.get(n)), num(rps.get(UNDICI)))])
  )

  const runs = t.quick ? 3 : 5
  log("connection: MB/s for a 64 MiB body")
  const R = "effect-http1 `res.read(65536)` loop"
  const S = "effect-http1 `res.stream`"
  const U = "undici 7 Client (`for await` of body)"
  const N = "node:http Agent keepAlive ('data' events)"
  const big = await throughputs(
    [
      [R, () => oursDownloader(port, BIG, "read")],
      [S, () => oursDownloader(port, BIG, "stream")],
      [U, () => undiciDownloader(port, BIG)],
      [N, () => nodeDownloader(port, BIG)]
    ],
    BIG,
    runs,
    log
  )
  const bigTable = markdownTable(
    ["client (64 MiB body, one connection)", "MB/s", "vs undici"],
    [R, S, U, N].map((n) => [n, cell(big.get(n)), ratio(num(big.get(n)), num(big.get(U)))])
  )

  log("connection: peak RSS streaming 1 GiB (child processes)")
  const entry = await childEntry(log)
  const modes: Array<RssMode> = t.quick ? ["stream", "undici"] : ["read", "stream", "undici", "node"]
  const rss: Array<RssResult> = []
  for (const mode of modes) {
    const r = await forkRss(entry, port, mode, 120_000)
    log(`  ${mode}: ${r.ok ? `${fmtNum(r.peakMiB)} MiB peak, ${fmtNum(r.baselineMiB)} MiB before` : `failed: ${r.error}`}`)
    rss.push(r)
  }
  const rssTable = markdownTable(
    ["1 GiB body, one connection", "peak RSS (MB)", "RSS before (MB)", "growth (MB)", "seconds", "MB/s", "< 100 MB"],
    rss.map((r) => {
      const mb = (mib: number) => (mib * 1048576) / 1e6
      return r.ok
        ? [RSS_LABEL[r.mode], mb(r.peakMiB), mb(r.baselineMiB), mb(r.peakMiB - r.baselineMiB), r.seconds, HUGE / 1e6 / r.seconds, mb(r.peakMiB) < 100 ? "yes" : "no"]
        : [RSS_LABEL[r.mode], `failed: ${(r.error ?? "").slice(0, 80)}`, undefined, undefined, undefined, undefined, "—"]
    })
  )

  const dur = `${rounds === 1 ? "" : `best of ${rounds} rounds of `}${t.durationMs / rounds / 1000} s (warm-up ${t.warmupMs / 1000} s)`
  return [
    {
      title: "One kept-alive connection: small GET (13-byte body)",
      table: rpsTable,
      notes: [
        `each client alone, ${dur}, contenders taking turns each round; requests one after the other, body read to its end`,
        "ours: one `Effect.runPromise` for the whole loop of `conn.request` → `conn.getResponse` → `res.read()`"
      ]
    },
    {
      title: "One connection: 64 MiB body",
      table: bigTable,
      notes: [`median of ${runs} downloads per client (after one warm-up download), clients taking turns; MB = 10^6 bytes`]
    },
    {
      title: "Peak RSS while streaming 1 GiB",
      table: rssTable,
      notes: [
        `one child process per row (${entry.how}); \`process.memoryUsage().rss\` sampled every 50 ms; MB = 10^6 bytes`,
        "\"RSS before\" is the process after loading its modules (effect alone is ~40 MB of it), before connecting"
      ]
    }
  ]
}
