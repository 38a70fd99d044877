/**
 * Peers section: one table, every client on the same cases, as ratios to undici's `Pool.request`.
 *
 * Cases: a 13-byte GET at 1 and 16 connections, the same over TLS at 16, 64 KiB and 1 MiB bodies
 * at 16 (N callers each looping request → whole body, pool size N). Contenders: undici 7 `Pool`,
 * node:http with a keep-alive Agent, `@effect/platform-node`'s `NodeHttpClient.layerUndici` and
 * `NodeHttpClient.layer` (node:http), and ours: `HttpClient`, `HttpConnection` (N connections,
 * one fiber each) and `PlatformHttpClient` (`@effect/platform`'s `HttpClient` on our pool).
 */
import * as http from "node:http"
import * as https from "node:https"
import { HttpClient as PlatformClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { Agent as UndiciAgent, Pool } from "undici"
import type * as Src from "../../src/index.js"
import { bestOfRounds, type BenchTiming, type Outcome } from "./connection.js"
import { lib } from "./lib.js"
import { concurrentLoops, fibersRate } from "./pool.js"
import { TLS_CA } from "./servers.js"
import { fmtNum, markdownTable, ratio, type Section } from "./table.js"

const { HttpClient, HttpConnection, HttpsConnection, Transport } = lib
const HOST = "127.0.0.1"

/** One row of the table. */
interface Case {
  readonly name: string
  readonly n: number
  readonly secure: boolean
  readonly path: string
}

const CASES: ReadonlyArray<Case> = [
  { name: "13 B GET, 1 connection", n: 1, secure: false, path: "/" },
  { name: "13 B GET, 16 connections", n: 16, secure: false, path: "/" },
  { name: "13 B GET over TLS, 16 connections", n: 16, secure: true, path: "/" },
  { name: "64 KiB GET, 16 connections", n: 16, secure: false, path: `/big/${64 * 1024}` },
  { name: "1 MiB GET, 16 connections", n: 16, secure: false, path: `/big/${1024 * 1024}` }
]

interface Ports {
  readonly port: number
  readonly tlsPort: number
}

const originOf = (c: Case, p: Ports) => (c.secure ? `https://${HOST}:${p.tlsPort}` : `http://${HOST}:${p.port}`)

type Run = (c: Case, p: Ports, t: BenchTiming) => Promise<Outcome>

const undiciPool: Run = async (c, p, t) => {
  const pool = new Pool(originOf(c, p), { connections: c.n, pipelining: 1, ...(c.secure ? { connect: { ca: TLS_CA } } : {}) })
  try {
    return await concurrentLoops(c.n, async () => {
      const { body } = await pool.request({ path: c.path, method: "GET" })
      await body.arrayBuffer()
    }, t)
  } finally {
    await pool.close()
  }
}

const nodeHttp: Run = async (c, p, t) => {
  const agent = c.secure ? new https.Agent({ keepAlive: true, maxSockets: c.n, ca: TLS_CA }) : new http.Agent({ keepAlive: true, maxSockets: c.n })
  const get = c.secure ? https.get : http.get
  try {
    return await concurrentLoops(c.n, () =>
      new Promise<void>((resolve, reject) => {
        const req = get({ host: HOST, port: c.secure ? p.tlsPort : p.port, path: c.path, agent }, (res) => {
          const parts: Array<Buffer> = []
          res.on("data", (chunk: Buffer) => parts.push(chunk))
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

/** N fibers looping `HttpClient.get(url)` + `arrayBuffer` of `@effect/platform` over `layer`. */
const platformLoop = (c: Case, p: Ports, t: BenchTiming, layer: Layer.Layer<PlatformClient.HttpClient>): Promise<Outcome> => {
  const url = `${originOf(c, p)}${c.path}`
  const one = Effect.scoped(Effect.flatMap(PlatformClient.get(url), (res) => res.arrayBuffer))
  return fibersRate(c.n, one, t).pipe(Effect.provide(layer), Effect.runPromise)
}

const platformUndici: Run = (c, p, t) =>
  platformLoop(
    c,
    p,
    t,
    NodeHttpClient.layerUndiciWithoutDispatcher.pipe(
      Layer.provide(
        Layer.scoped(
          NodeHttpClient.Dispatcher,
          Effect.acquireRelease(
            Effect.sync(() => new UndiciAgent({ connections: c.n, ...(c.secure ? { connect: { ca: TLS_CA } } : {}) })),
            (d) => Effect.promise(() => d.destroy())
          )
        )
      )
    )
  )

const platformNode: Run = (c, p, t) =>
  platformLoop(c, p, t, NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: true, maxSockets: c.n, ca: TLS_CA }))))

const tlsOptions = (c: Case) => (c.secure ? { tls: { ca: TLS_CA } } : {})

const oursClient = (tracing: boolean): Run => (c, p, t) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.make({ maxConnectionsPerOrigin: c.n, ...tlsOptions(c), ...(tracing ? {} : { tracing: false }) })
    const url = `${originOf(c, p)}${c.path}`
    const one = Effect.scoped(Effect.flatMap(client.get(url), (res) => res.bytes))
    return yield* fibersRate(c.n, one, t)
  }).pipe(Effect.scoped, Effect.provide(Transport.layer), Effect.runPromise)

/** N connections, one fiber each looping request → getResponse → read(). */
const oursConnection: Run = (c, p, t) =>
  Effect.gen(function* () {
    const conns: Array<Src.HttpConnection.HttpConnection> = []
    for (let i = 0; i < c.n; i++) {
      conns.push(
        c.secure
          ? yield* HttpsConnection.make({ host: HOST, port: p.tlsPort, timeout: "10 seconds", tls: { ca: TLS_CA } })
          : yield* HttpConnection.make({ host: HOST, port: p.port, timeout: "10 seconds" })
      )
    }
    const loops = conns.map((conn) => Effect.zipRight(conn.request("GET", c.path), Effect.flatMap(conn.getResponse, (res) => res.read())))
    return yield* fibersRateEach(loops, t)
  }).pipe(Effect.scoped, Effect.provide(Transport.layer), Effect.runPromise)

/** Like `fibersRate`, one fiber per effect of `each`. */
const fibersRateEach = <E, R>(each: ReadonlyArray<Effect.Effect<unknown, E, R>>, t: BenchTiming): Effect.Effect<number, E, R> =>
  Effect.map(
    Effect.forEach(each, (one) => fibersRate(1, one, t), { concurrency: "unbounded" }),
    (rates) => rates.reduce((a, b) => a + b, 0)
  )

/** `PlatformHttpClient.layerWith(options)` from src/index.ts, when it exists. */
const oursPlatform: Run = (c, p, t) => {
  const ns = (lib as unknown as Record<string, unknown>).PlatformHttpClient as Record<string, unknown> | undefined
  const layerWith = ns?.layerWith
  if (typeof layerWith !== "function") return Promise.resolve("no PlatformHttpClient.layerWith")
  const layer = (layerWith as (o: unknown) => Layer.Layer<PlatformClient.HttpClient>)({ maxConnectionsPerOrigin: c.n, ...tlsOptions(c) })
  return platformLoop(c, p, t, layer)
}

const UNDICI = "undici 7 `Pool.request`"
const CONTENDERS: ReadonlyArray<readonly [string, Run]> = [
  [UNDICI, undiciPool],
  ["node:http Agent keepAlive", nodeHttp],
  ["@effect/platform-node `layerUndici`", platformUndici],
  ["@effect/platform-node `layer` (node:http)", platformNode],
  ["ours `HttpConnection` (N connections)", oursConnection],
  ["ours `HttpClient` (spans on, the default)", oursClient(true)],
  ["ours `HttpClient`, `tracing: false`", oursClient(false)],
  ["ours `PlatformHttpClient`", oursPlatform]
]

export interface PeersResults {
  readonly sections: Array<Section>
  /** req/s per case and contender. */
  readonly raw: Record<string, Record<string, Outcome>>
}

export const runPeersBench = async (ports: Ports, t: BenchTiming, log: (s: string) => void): Promise<PeersResults> => {
  const rounds = t.quick ? 1 : 2
  // Shorter windows than the other sections: 35 cells.
  const cellTiming: BenchTiming = t.quick ? { warmupMs: 300, durationMs: 600, quick: true } : { warmupMs: 600, durationMs: 3000, quick: false }
  const raw: Record<string, Record<string, Outcome>> = {}
  for (const c of CASES) {
    log(`peers: ${c.name} (${rounds} round(s))`)
    const best = await bestOfRounds(
      CONTENDERS.map(([name, run]) => [name, (rt: BenchTiming) => run(c, ports, rt)] as const),
      cellTiming,
      rounds,
      log
    )
    raw[c.name] = Object.fromEntries(CONTENDERS.map(([name]) => [name, best.get(name) ?? "not run"]))
  }
  const num = (o: Outcome | undefined) => (typeof o === "number" ? o : undefined)
  const rows = CASES.map((c) => {
    const r = raw[c.name]!
    const base = num(r[UNDICI])
    return [c.name, ...CONTENDERS.map(([name]) => {
      const v = r[name]
      if (typeof v !== "number") return v
      return name === UNDICI ? `${fmtNum(v)} req/s` : `${ratio(v, base)} (${fmtNum(v)})`
    })]
  })
  const window = `${rounds === 1 ? "" : `best of ${rounds} rounds of `}${cellTiming.durationMs / rounds / 1000} s (warm-up ${cellTiming.warmupMs / 1000} s)`
  return {
    raw,
    sections: [
      {
        title: "Peers: ratio to undici `Pool.request` (req/s in parentheses)",
        table: markdownTable(["case", ...CONTENDERS.map(([name]) => name)], rows),
        notes: [
          `each cell: N callers each looping request → whole body, pool size N, for ${window}; contenders take turns within a case`,
          "the `@effect/platform` rows (theirs and ours) loop `HttpClient.get(url)` + `res.arrayBuffer` in N fibers; ours `HttpClient`: `Effect.scoped(client.get(url) → res.bytes)` (by default with an `http.client GET` span and `traceparent` / `b3` headers per request, as `@effect/platform`'s clients; undici and node:http make no spans); `HttpConnection`: N connections, one fiber each, `request` → `getResponse` → `read()`",
          "TLS: the test CA (test/fixtures/certs) trusted by every client; the server is the same raw node:net server behind node:tls"
        ]
      }
    ]
  }
}
