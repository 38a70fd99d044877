/**
 * Pool section: req/s for a small GET at 1 and 16 concurrent callers.
 *
 * Contenders: ours (`HttpClient.make({ maxConnectionsPerOrigin: N })`, N fibers each looping
 * `client.get(url)` + `res.bytes` inside `Effect.scoped`), ours through `@effect/platform`'s
 * `HttpClient` (`PlatformHttpClient.layer`, skipped when the module does not export it yet),
 * undici 7 `Pool` with `request`, the same with pipelining 10, node:http with a keep-alive Agent
 * (maxSockets N), Node's global `fetch`, and a hand-written node:net client that writes requests
 * and counts responses by their byte length (the floor: no parsing at all).
 *
 * "Effect overhead per request" compares ours with that raw client.
 */
import * as http from "node:http"
import * as net from "node:net"
import { HttpClient as PlatformClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Pool } from "undici"
import { lib } from "./lib.js"

const { HttpClient, Transport } = lib
import { bestOfRounds, type BenchTiming, type Outcome } from "./connection.js"
import { CANNED } from "./servers.js"
import { fmtNum, markdownTable, ratio, type Section } from "./table.js"

const HOST = "127.0.0.1"

/** The counting window shared by every caller of one run. */
interface Window {
  readonly measureFrom: number
  readonly until: number
  count: number
}

const windowOf = (t: BenchTiming): Window => {
  const now = performance.now()
  return { measureFrom: now + t.warmupMs, until: now + t.warmupMs + t.durationMs, count: 0 }
}

const rateOf = (w: Window, t: BenchTiming) => w.count / (t.durationMs / 1000)

/** N promise loops; a request completing inside the window counts. */
export const concurrentLoops = async (n: number, one: () => Promise<void>, t: BenchTiming): Promise<number> => {
  const w = windowOf(t)
  const loop = async () => {
    let now = performance.now()
    while (now < w.until) {
      await one()
      now = performance.now()
      if (now >= w.measureFrom && now < w.until) w.count++
    }
  }
  await Promise.all(Array.from({ length: n }, loop))
  return rateOf(w, t)
}

/** N fibers looping `one` in one runtime; a request completing inside the window counts. */
export const fibersRate = <E, R>(n: number, one: Effect.Effect<unknown, E, R>, t: BenchTiming): Effect.Effect<number, E, R> =>
  Effect.suspend(() => {
    const w = windowOf(t)
    const loop = Effect.gen(function* () {
      let now = performance.now()
      while (now < w.until) {
        yield* one
        now = performance.now()
        if (now >= w.measureFrom && now < w.until) w.count++
      }
    })
    return Effect.map(
      Effect.forEach(Array.from({ length: n }), () => loop, { concurrency: "unbounded", discard: true }),
      () => rateOf(w, t)
    )
  })

const oursPool = (port: number, n: number, t: BenchTiming, pipelining = 1): Promise<number> =>
  Effect.gen(function* () {
    const client = yield* HttpClient.make({ maxConnectionsPerOrigin: n, pipelining })
    const url = `http://${HOST}:${port}/`
    const one = Effect.scoped(Effect.flatMap(client.get(url), (res) => res.bytes))
    return yield* fibersRate(n, one, t)
  }).pipe(Effect.scoped, Effect.provide(Transport.layer), Effect.runPromise)

/** `PlatformHttpClient.layer` from src/index.ts, when it exists. */
const loadPlatformLayer = async (n: number): Promise<Layer.Layer<PlatformClient.HttpClient> | string> => {
  let mod: Record<string, unknown>
  try {
    mod = lib as unknown as Record<string, unknown>
  } catch (e) {
    return `src/index.ts failed to load: ${String(e).slice(0, 80)}`
  }
  const ns = mod.PlatformHttpClient as Record<string, unknown> | undefined
  if (ns === undefined) return "src/index.ts does not export PlatformHttpClient yet"
  // `layerWith(options)` sizes the pool like the other rows; `layer` (default options) otherwise.
  if (typeof ns.layerWith === "function") {
    const made = (ns.layerWith as (o: unknown) => unknown)({ maxConnectionsPerOrigin: n })
    if (Layer.isLayer(made)) return made as Layer.Layer<PlatformClient.HttpClient>
  }
  const layer = ns.layer
  // `layer` may be a Layer or a function of pool options; give it our client and Transport too.
  const base = Layer.merge(HttpClient.layerWith({ maxConnectionsPerOrigin: n }), Transport.layer)
  if (typeof layer === "function") {
    const made = (layer as (o: unknown) => unknown)({ maxConnectionsPerOrigin: n })
    return Layer.provide(made as Layer.Layer<PlatformClient.HttpClient, never, never>, base)
  }
  if (Layer.isLayer(layer)) return Layer.provide(layer as Layer.Layer<PlatformClient.HttpClient, never, never>, base)
  return "PlatformHttpClient.layer is neither a Layer nor a function"
}

const oursPlatform = async (port: number, n: number, t: BenchTiming): Promise<number | string> => {
  const layer = await loadPlatformLayer(n)
  if (typeof layer === "string") return layer
  const url = `http://${HOST}:${port}/`
  const one = Effect.scoped(Effect.flatMap(PlatformClient.get(url), (res) => res.arrayBuffer))
  return fibersRate(n, one, t).pipe(Effect.provide(layer), Effect.runPromise)
}

const undiciPool = async (port: number, n: number, t: BenchTiming, pipelining: number): Promise<number> => {
  const pool = new Pool(`http://${HOST}:${port}`, { connections: n, pipelining })
  try {
    return await concurrentLoops(n, async () => {
      const { body } = await pool.request({ path: "/", method: "GET" })
      await body.arrayBuffer()
    }, t)
  } finally {
    await pool.close()
  }
}

const nodeAgent = async (port: number, n: number, t: BenchTiming): Promise<number> => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: n })
  try {
    return await concurrentLoops(n, () =>
      new Promise<void>((resolve, reject) => {
        const req = http.get({ host: HOST, port, path: "/", agent }, (res) => {
          const parts: Array<Buffer> = []
          res.on("data", (c: Buffer) => parts.push(c))
          res.on("end", () => {
            Buffer.concat(parts)
            resolve()
          })
          res.on("error", reject)
        })
        req.on("error", reject)
      }), t)
  } finally {
    agent.destroy()
  }
}

const nodeFetch = (port: number, n: number, t: BenchTiming): Promise<number> => {
  const url = `http://${HOST}:${port}/`
  return concurrentLoops(n, async () => {
    const res = await fetch(url)
    await res.arrayBuffer()
  }, t)
}

/**
 * The floor: N node:net sockets, each writing one request and waiting for the canned response's
 * byte count before the next. No header parsing, no allocation per request beyond node's own.
 */
const rawSockets = async (port: number, n: number, t: BenchTiming): Promise<number> => {
  const w = windowOf(t)
  const request = Buffer.from(`GET / HTTP/1.1\r\nHost: ${HOST}:${port}\r\n\r\n`, "latin1")
  const size = CANNED.length
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const socket = net.connect(port, HOST)
      socket.setNoDelay(true)
      let pending = 0
      socket.on("error", reject)
      socket.on("connect", () => socket.write(request))
      socket.on("data", (chunk: Buffer) => {
        pending += chunk.length
        while (pending >= size) {
          pending -= size
          const now = performance.now()
          if (now >= w.measureFrom && now < w.until) w.count++
          if (now >= w.until) {
            socket.destroy()
            return resolve()
          }
          socket.write(request)
        }
      })
    })
  await Promise.all(Array.from({ length: n }, one))
  return rateOf(w, t)
}

// ---------------------------------------------------------------------------------------------
// The section
// ---------------------------------------------------------------------------------------------

const num = (o: Outcome | undefined) => (typeof o === "number" ? o : undefined)
const cell = (o: Outcome | undefined) => (o === undefined ? undefined : typeof o === "number" ? fmtNum(o) : o)

export interface PoolResults {
  readonly sections: Array<Section>
  /** req/s per contender and concurrency, for the README. */
  readonly raw: Record<string, Record<number, Outcome>>
}

export const runPoolBench = async (port: number, t: BenchTiming, log: (s: string) => void): Promise<PoolResults> => {
  const levels = [1, 16]
  const contenders: Array<[string, (n: number, rt: BenchTiming) => Promise<Outcome>]> = [
    ["effect-http1 HttpClient (pool)", (n, rt) => oursPool(port, n, rt)],
    ["effect-http1 HttpClient, `pipelining: 10`", (n, rt) => oursPool(port, n, rt, 10)],
    ["effect-http1 via @effect/platform HttpClient", (n, rt) => oursPlatform(port, n, rt)],
    ["undici 7 Pool `request`", (n, rt) => undiciPool(port, n, rt, 1)],
    ["undici 7 Pool `request`, pipelining 10", (n, rt) => undiciPool(port, n, rt, 10)],
    ["node:http Agent keepAlive, maxSockets N", (n, rt) => nodeAgent(port, n, rt)],
    ["Node's global `fetch`", (n, rt) => nodeFetch(port, n, rt)],
    ["raw node:net loop (no parsing; the floor)", (n, rt) => rawSockets(port, n, rt)]
  ]
  const rounds = t.quick ? 1 : 3
  const results: Record<string, Record<number, Outcome>> = {}
  for (const n of levels) {
    log(`pool: concurrency ${n} (${rounds} round(s))`)
    const best = await bestOfRounds(
      contenders.map(([name, run]) => [name, (rt: BenchTiming) => run(n, rt)] as const),
      t,
      rounds,
      log
    )
    for (const [name] of contenders) (results[name] ??= {})[n] = best.get(name) ?? "not run"
  }
  const undiciName = "undici 7 Pool `request`"
  const rows = contenders.map(([name]) => {
    const r = results[name]!
    return [
      name,
      cell(r[1]),
      ratio(num(r[1]), num(results[undiciName]![1])),
      cell(r[16]),
      ratio(num(r[16]), num(results[undiciName]![16]))
    ]
  })
  const table = markdownTable(["client (small GET)", "req/s @1", "vs undici @1", "req/s @16", "vs undici @16"], rows)

  // Effect overhead: time per request of ours minus the raw loop's, at the same concurrency.
  const ours = results["effect-http1 HttpClient (pool)"]!
  const raw = results["raw node:net loop (no parsing; the floor)"]!
  const und = results[undiciName]!
  const us = (o: Outcome | undefined) => (typeof o === "number" && o > 0 ? 1e6 / o : undefined)
  const overheadRows = levels.map((n) => {
    const o = us(ours[n])
    const r = us(raw[n])
    const u = us(und[n])
    return [
      `concurrency ${n}`,
      o,
      u,
      r,
      o !== undefined && r !== undefined ? o - r : undefined,
      o !== undefined && u !== undefined ? o - u : undefined
    ]
  })
  const overhead = markdownTable(
    ["", "ours µs/req", "undici µs/req", "raw socket µs/req", "ours − raw (µs)", "ours − undici (µs)"],
    overheadRows
  )
  const dur = `${rounds === 1 ? "" : `best of ${rounds} rounds of `}${t.durationMs / rounds / 1000} s (warm-up ${t.warmupMs / 1000} s), contenders taking turns each round`
  return {
    raw: results,
    sections: [
      {
        title: "Pool: small GET at 1 and 16 concurrent callers",
        table,
        notes: [
          `each contender alone for ${dur}; N callers each loop request → read body; pool size N (undici \`connections: N\`, Agent \`maxSockets: N\`)`,
          "ours: `HttpClient.make({ maxConnectionsPerOrigin: N })`, N fibers in one `Effect.runPromise`, each request in its own `Effect.scoped`; via platform: `PlatformHttpClient.layerWith({ maxConnectionsPerOrigin: N })` and `HttpClient.get(url)` + `res.arrayBuffer` of `@effect/platform`",
          "Node's `fetch` is the undici bundled with Node 20 (its default global dispatcher), not the undici 7 package",
          "the raw loop writes a request and waits for the canned response's byte count: no parsing, the floor of what a client on this machine can do"
        ]
      },
      {
        title: "Effect overhead per request (pool path vs a raw socket loop)",
        table: overhead,
        notes: [
          "µs/req = 1 / throughput: at concurrency 16 it is the CPU cost per request of the client process (the server runs in another process)",
          "ours − raw is what everything above the socket costs us: parser, pool, fibers, scopes, Effect's runtime"
        ]
      }
    ]
  }
}
