/**
 * The soak itself: `runSoak(options)` starts one fault-injecting loopback server per client
 * (so that sockets left open are attributed), runs N concurrent callers through each client for
 * a bounded time, checks every response against its request's id, closes every client's scope,
 * counts the sockets still open on the server side, and returns the counts.
 *
 * Clients:
 * - `pool`: `HttpClient.layerWith({ pipelining: 1, maxConnectionsPerOrigin: 8, ... })`;
 * - `pipelined`: `HttpClient.layerWith({ pipelining: 4, maxConnectionsPerOrigin: 4, ... })` (16
 *   callers on 4 sockets: requests are pipelined);
 * - `platform`: `PlatformHttpClient.layerFromClient` on `HttpClient.layerWith({ maxConnectionsPerOrigin: 8, ... })`
 *   (what `PlatformHttpClient.layerWith` builds; our client kept in context for its `stats()`),
 *   requests through `@effect/platform`'s `HttpClient.execute`, without a scope around them
 *   (bodies are read, streamed or dropped as users do).
 *
 * Faults are drawn by weight, except that the first request of caller i has the i-th fault of
 * positive weight: with 16 callers every fault is met at least once per client.
 *
 * Each request is bounded three ways: the client's timeouts (`headersTimeout`, `bodyTimeout`,
 * `timeout`), and a watchdog (`watchdogFactor` × `timeout`) that counts a hang when the request is
 * still running past it (the request is then disconnected and interrupted in the background).
 */
import * as os from "node:os"
import { monitorEventLoopDelay } from "node:perf_hooks"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { HttpClient as PlatformClient, HttpClientRequest } from "@effect/platform"
import * as ClientError from "@effect/platform/HttpClientError"
import { Cause, Chunk, Context, Duration, Effect, Exit, Fiber, Layer, Option, Scope, Stream } from "effect"
import { Http1Error, HttpClient, PlatformHttpClient } from "../../src/index.js"
import {
  ACTIONS,
  type Action,
  DEFAULT_ACTION_WEIGHTS,
  DEFAULT_FAULT_WEIGHTS,
  expectedBody,
  type Fault,
  FAULTS,
  HEAD_FAULTS,
  HEALTHY,
  picker,
  pickSize,
  rng,
  type Weights
} from "./faults.js"
import { type LateShape, type SoakServer, startSoakServer } from "./server.js"

export const CLIENTS = ["pool", "pipelined", "platform"] as const
export type ClientKind = (typeof CLIENTS)[number]

export interface SoakOptions {
  /** How long callers keep starting requests. Default 60 000. */
  readonly durationMs?: number | undefined
  /** Concurrent callers per client. Default 16. */
  readonly concurrency?: number | undefined
  /** Which clients run (concurrently, each against its own server). Default all three. */
  readonly clients?: ReadonlyArray<ClientKind> | undefined
  readonly faultWeights?: Weights<Fault> | undefined
  readonly actionWeights?: Weights<Action> | undefined
  /** Seed of the request mix (timing still varies from run to run). Default random. */
  readonly seed?: number | undefined
  /** Client `headersTimeout`. Default 1000. */
  readonly headersTimeoutMs?: number | undefined
  /** Client `bodyTimeout`. Default 1000. */
  readonly bodyTimeoutMs?: number | undefined
  /** Client `timeout` (the whole exchange). Default 3000. */
  readonly timeoutMs?: number | undefined
  /** A request still running after this × `timeoutMs` is a hang. Default 2. */
  readonly watchdogFactor?: number | undefined
  /** The watchdog in ms, instead of `watchdogFactor` × `timeoutMs` (to check the watchdog itself). */
  readonly watchdogMs?: number | undefined
  /**
   * Shape of the bytes a server sends after a 204 / HEAD response, per client. Default
   * `"response"` (a well-formed response with another id) for `pool` and `platform`, `"body"` for
   * `pipelined`: with requests pipelined behind the 204, no client can tell a smuggled response
   * from the next one, so a well-formed one would count against any client.
   */
  readonly lateShape?: Partial<Record<ClientKind, LateShape>> | undefined
  /**
   * 0 (default): the late bytes are in the same write as the bodiless response. More: they follow
   * in a write of their own 0 to this many ms later, racing the next request on the socket.
   */
  readonly lateDelayMs?: number | undefined
  /** Grace after the clients' scopes closed for the server to see their sockets close. Default 1000. */
  readonly graceMs?: number | undefined
  /** Progress lines (stderr in the CLI). */
  readonly log?: ((line: string) => void) | undefined
}

/** One offending request, for the report. */
export interface Sample {
  readonly client: ClientKind
  readonly id: string
  readonly fault: Fault | "-"
  readonly action: Action | "-"
  readonly detail: string
}

export interface FaultRow {
  requests: number
  ok: number
  interrupted: number
  wrong: number
  defects: number
  hangs: number
  failures: Record<string, number>
}

export interface ClientResult {
  readonly client: ClientKind
  readonly options: Record<string, unknown>
  requests: number
  ok: number
  /** Requests we interrupted (action `interrupt`) that ended interrupted. */
  interrupted: number
  /** Failures by error tag (`TimeoutError(headers)`, `RequestError(Transport) RemoteDisconnected`, ...). */
  failures: Record<string, number>
  failed: number
  /** Successful responses that did not answer their request: another request's bytes. */
  wrong: number
  /** Dies, thrown exceptions, failures that are not our / platform's tagged errors, interruptions we did not ask for. */
  defects: number
  /** Requests still running past the watchdog, plus a client scope that did not close in time. */
  hangs: number
  /** `trickleSlow` heads (2.5 × headersTimeout) returned as successes: headersTimeout not enforced. */
  slowHeadsAccepted: number
  /** Requests the server received with an `x-id` other than the id in their path. */
  garbledRequests: number
  /** Healthy requests (fault without error) read normally that failed anyway (informational). */
  healthyFailed: number
  /** The first few of those, with their error message and how long they took. */
  healthySamples: Array<Sample>
  /** Requests the server received more than 3 times (a retry storm; informational). */
  sentMoreThan3Times: number
  /** The most times one request arrived at the server. */
  mostSends: number
  /** Server-side sockets still open after the client's scope closed and the grace. */
  socketsOpenAtEnd: number
  /** Sockets the server accepted. */
  socketsAccepted: number
  /** The client's pool stats just before its scope closed. */
  poolBeforeClose: ReadonlyArray<{ readonly origin: string; readonly open: number; readonly idle: number; readonly pending: number }>
  byFault: Record<string, FaultRow>
  samples: Array<Sample>
}

export interface SoakResult {
  readonly durationMs: number
  readonly elapsedMs: number
  readonly concurrency: number
  readonly seed: number
  readonly timeouts: { readonly headersTimeoutMs: number; readonly bodyTimeoutMs: number; readonly timeoutMs: number; readonly watchdogMs: number }
  readonly faultWeights: Weights<Fault>
  readonly actionWeights: Weights<Action>
  readonly clients: Array<ClientResult>
  readonly totals: {
    requests: number
    ok: number
    interrupted: number
    failed: number
    failures: Record<string, number>
    wrong: number
    defects: number
    hangs: number
    slowHeadsAccepted: number
    garbledRequests: number
    healthyFailed: number
    sentMoreThan3Times: number
    mostSends: number
    socketsOpenAtEnd: number
  }
  /** Uncaught exceptions and unhandled rejections seen during the run (also counted as defects). */
  readonly processErrors: Array<string>
  readonly heap: {
    /** How GC was forced: `global.gc` (--expose-gc) or `v8.setFlagsFromString`; `none` when neither worked. */
    readonly gc: "expose-gc" | "v8-flags" | "none"
    readonly startAfterGcMb: number | undefined
    readonly endBeforeGcMb: number
    readonly endAfterGcMb: number | undefined
  }
  /** Event-loop delay over the run (client and servers share the loop): a timeout near these values may be the machine's. */
  readonly eventLoopDelay: { readonly p99Ms: number; readonly maxMs: number }
  /** Node version, CPUs and the load average at the end (other processes count too). */
  readonly machine: { readonly node: string; readonly cpus: number; readonly loadAverage: ReadonlyArray<number> }
  /** Every "must be 0" row is 0. */
  readonly passed: boolean
}

/** Rows that must be 0, as [key of totals, label]. */
export const MUST_BE_ZERO = [
  ["wrong", "wrong responses"],
  ["defects", "untyped defects"],
  ["hangs", "hangs past the deadline"],
  ["slowHeadsAccepted", "slow heads accepted (headersTimeout not enforced)"],
  ["garbledRequests", "garbled requests (at the server)"],
  ["socketsOpenAtEnd", "sockets open at end"]
] as const

// ---------------------------------------------------------------------------------------------
// GC
// ---------------------------------------------------------------------------------------------

const findGc = (): { gc: (() => void) | undefined; how: SoakResult["heap"]["gc"] } => {
  const g = (globalThis as { gc?: () => void }).gc
  if (typeof g === "function") return { gc: g, how: "expose-gc" }
  try {
    v8.setFlagsFromString("--expose-gc")
    const f = vm.runInNewContext("gc") as unknown
    if (typeof f === "function") return { gc: f as () => void, how: "v8-flags" }
  } catch {
    // not available
  }
  return { gc: undefined, how: "none" }
}

const heapMb = () => process.memoryUsage().heapUsed / (1024 * 1024)

// ---------------------------------------------------------------------------------------------
// One client
// ---------------------------------------------------------------------------------------------

interface Plan {
  readonly id: string
  readonly fault: Fault
  readonly action: Action
  readonly method: "GET" | "HEAD"
  readonly size: number
  readonly url: string
  readonly interruptAfterMs: number
}

interface Observed {
  readonly status: number
  readonly xid: string | undefined
  /** undefined when the body was not read. */
  readonly body: Uint8Array | undefined
}

type Outcome =
  | { readonly _tag: "ok" }
  | { readonly _tag: "wrong"; readonly detail: string }
  | { readonly _tag: "failure"; readonly key: string; readonly message: string }
  | { readonly _tag: "interrupted" }
  | { readonly _tag: "defect"; readonly detail: string }

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => Buffer.concat(parts)

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1")

const show = (s: string, max = 80) => JSON.stringify(s.length > max ? `${s.slice(0, max)}…(${s.length})` : s)

/** Whether a successful response answers its request. */
const verify = (plan: Plan, obs: Observed): Outcome => {
  const wantStatus = plan.fault === "late204" ? 204 : 200
  if (obs.xid !== plan.id) return { _tag: "wrong", detail: `x-id ${show(String(obs.xid))} (status ${obs.status})` }
  if (obs.status !== wantStatus) return { _tag: "wrong", detail: `status ${obs.status}, expected ${wantStatus}` }
  if (obs.body !== undefined) {
    const want = plan.method === "HEAD" || wantStatus === 204 ? "" : expectedBody(plan.id, plan.size)
    const got = latin1(obs.body)
    if (got !== want) return { _tag: "wrong", detail: `body ${show(got)} (${got.length} bytes), expected ${want.length} bytes` }
  }
  return { _tag: "ok" }
}

const tagOf = (u: unknown): string | undefined =>
  typeof u === "object" && u !== null && typeof (u as { _tag?: unknown })._tag === "string" ? (u as { _tag: string })._tag : undefined

const ourKey = (e: unknown): string => {
  const tag = tagOf(e) ?? "?"
  if (tag === "TimeoutError") return `TimeoutError(${(e as Http1Error.TimeoutError).phase})`
  if (tag === "ConnectionReset") return `ConnectionReset(${(e as Http1Error.ConnectionReset).beforeResponse ? "before response" : "mid-response"})`
  return tag
}

/** The failure's key, or a defect when it is not a tagged error of ours / platform's. */
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e)).slice(0, 200)

const classifyError = (kind: ClientKind, e: unknown): Outcome => {
  if (kind !== "platform") {
    return Http1Error.isHttp1Error(e)
      ? { _tag: "failure", key: ourKey(e), message: messageOf(e) }
      : { _tag: "defect", detail: `untyped failure: ${String(e).slice(0, 200)}` }
  }
  if (e instanceof ClientError.RequestError || e instanceof ClientError.ResponseError) {
    const cause = e.cause
    const inner = Http1Error.isHttp1Error(cause) ? ourKey(cause) : cause === undefined ? e.description ?? "-" : tagOf(cause) ?? String(cause).slice(0, 60)
    if (cause instanceof Error && !Http1Error.isHttp1Error(cause) && tagOf(cause) === undefined) {
      return { _tag: "defect", detail: `${e._tag}(${e.reason}) wraps an untyped error: ${String(cause).slice(0, 200)}` }
    }
    return { _tag: "failure", key: `${e._tag}(${e.reason}) ${inner}`, message: messageOf(cause ?? e) }
  }
  return { _tag: "defect", detail: `untyped failure: ${String(e).slice(0, 200)}` }
}

const classifyExit = (kind: ClientKind, plan: Plan, exit: Exit.Exit<Observed, unknown>): Outcome => {
  if (Exit.isSuccess(exit)) return verify(plan, exit.value)
  const cause = exit.cause
  const die = Cause.dieOption(cause)
  if (Option.isSome(die)) return { _tag: "defect", detail: `die: ${String(die.value instanceof Error ? die.value.stack : die.value).slice(0, 400)}` }
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) return classifyError(kind, failure.value)
  if (Cause.isInterruptedOnly(cause)) {
    return plan.action === "interrupt" ? { _tag: "interrupted" } : { _tag: "defect", detail: "interrupted, but nobody interrupted it" }
  }
  return { _tag: "defect", detail: `cause: ${Cause.pretty(cause).slice(0, 400)}` }
}

type Exchange = (plan: Plan) => Effect.Effect<Observed, unknown>

const oursExchange =
  (client: HttpClient.HttpClientService): Exchange =>
  (plan) =>
    Effect.scoped(
      Effect.gen(function* () {
        const res = yield* client.request({ method: plan.method, url: plan.url, headers: { "x-id": plan.id } })
        const xid = res.headers.get("x-id")
        let body: Uint8Array | undefined
        if (plan.action === "read" || plan.action === "interrupt") body = yield* res.bytes
        else if (plan.action === "stream") body = concat(Chunk.toReadonlyArray(yield* Stream.runCollect(res.stream)))
        return { status: res.status, xid, body }
      })
    )

const platformExchange =
  (client: PlatformClient.HttpClient): Exchange =>
  (plan) =>
    Effect.gen(function* () {
      const res = yield* client.execute(HttpClientRequest.make(plan.method)(plan.url, { headers: { "x-id": plan.id } }))
      const xid = res.headers["x-id"]
      let body: Uint8Array | undefined
      if (plan.action === "read" || plan.action === "interrupt") body = new Uint8Array(yield* res.arrayBuffer)
      else if (plan.action === "stream") body = concat(Chunk.toReadonlyArray(yield* Stream.runCollect(res.stream)))
      return { status: res.status, xid, body }
    })

interface Built {
  readonly exchange: Exchange
  readonly stats: () => ClientResult["poolBeforeClose"]
}

const clientOptions = (kind: ClientKind, t: { headersTimeoutMs: number; bodyTimeoutMs: number; timeoutMs: number }): HttpClient.Options => ({
  maxConnectionsPerOrigin: kind === "pipelined" ? 4 : 8,
  pipelining: kind === "pipelined" ? 4 : 1,
  connectTimeout: Duration.millis(t.timeoutMs),
  headersTimeout: Duration.millis(t.headersTimeoutMs),
  bodyTimeout: Duration.millis(t.bodyTimeoutMs),
  timeout: Duration.millis(t.timeoutMs)
})

const build = (kind: ClientKind, options: HttpClient.Options, scope: Scope.Scope): Effect.Effect<Built> =>
  kind === "platform"
    ? Effect.map(
        Layer.buildWithScope(Layer.provideMerge(PlatformHttpClient.layerFromClient, HttpClient.layerWith(options)), scope),
        (ctx) => {
          const ours = Context.get(ctx, HttpClient.HttpClient)
          return { exchange: platformExchange(Context.get(ctx, PlatformClient.HttpClient)), stats: () => ours.stats() }
        }
      )
    : Effect.map(Layer.buildWithScope(HttpClient.layerWith(options), scope), (ctx) => {
        const ours = Context.get(ctx, HttpClient.HttpClient)
        return { exchange: oursExchange(ours), stats: () => ours.stats() }
      })

const newFaultRow = (): FaultRow => ({ requests: 0, ok: 0, interrupted: 0, wrong: 0, defects: 0, hangs: 0, failures: {} })

const MAX_SAMPLES = 12

/** The options of one client's run, defaults applied. */
interface ClientRun {
  readonly durationMs: number
  readonly concurrency: number
  readonly faultWeights: Weights<Fault>
  readonly actionWeights: Weights<Action>
  readonly seed: number
  readonly headersTimeoutMs: number
  readonly bodyTimeoutMs: number
  readonly timeoutMs: number
  readonly watchdogMs: number
  readonly graceMs: number
  readonly log: (line: string) => void
  readonly lateShape: LateShape
  readonly lateDelayMs: number
}

const runClient = (kind: ClientKind, index: number, o: ClientRun): Promise<ClientResult> => {
  const timeouts = { headersTimeoutMs: o.headersTimeoutMs, bodyTimeoutMs: o.bodyTimeoutMs, timeoutMs: o.timeoutMs }
  const options = clientOptions(kind, timeouts)
  const watchdogMs = o.watchdogMs
  const random = rng(o.seed + index * 7919)
  const pickFault = picker(FAULTS, o.faultWeights, random)
  const pickAction = picker(ACTIONS, o.actionWeights, random)
  const result: ClientResult = {
    client: kind,
    options: {
      maxConnectionsPerOrigin: options.maxConnectionsPerOrigin,
      pipelining: options.pipelining,
      lateShape: o.lateShape,
      lateDelayMs: o.lateDelayMs
    },
    requests: 0,
    ok: 0,
    interrupted: 0,
    failures: {},
    failed: 0,
    wrong: 0,
    defects: 0,
    hangs: 0,
    slowHeadsAccepted: 0,
    garbledRequests: 0,
    healthyFailed: 0,
    healthySamples: [],
    sentMoreThan3Times: 0,
    mostSends: 1,
    socketsOpenAtEnd: 0,
    socketsAccepted: 0,
    poolBeforeClose: [],
    byFault: {},
    samples: []
  }
  const sample = (plan: Plan | undefined, detail: string) => {
    if (result.samples.length < MAX_SAMPLES) {
      result.samples.push({ client: kind, id: plan?.id ?? "-", fault: plan?.fault ?? "-", action: plan?.action ?? "-", detail })
    }
  }

  let server: SoakServer | undefined
  const program = Effect.gen(function* () {
    server = yield* Effect.promise(() => startSoakServer({ lateShape: o.lateShape, lateDelayMs: o.lateDelayMs, headersTimeoutMs: o.headersTimeoutMs, random: rng(o.seed + index * 104729 + 1) }))
    const base = `http://127.0.0.1:${server.port}`
    const scope = yield* Scope.make()
    const built = yield* build(kind, options, scope)
    const until = Date.now() + o.durationMs
    let counter = 0

    // The first request of caller i has the i-th fault of positive weight, so that every fault
    // is met at least once per client however few requests a loaded machine manages.
    const weighted = FAULTS.filter((f) => (o.faultWeights[f] ?? 0) > 0)
    const one = (forced: Fault | undefined): Effect.Effect<void> => Effect.suspend(() => {
      const fault = forced ?? pickFault()
      const action = pickAction()
      const id = `${kind}.${counter++}`
      const size = pickSize(random)
      const plan: Plan = {
        id,
        fault,
        action,
        method: HEAD_FAULTS.has(fault) ? "HEAD" : "GET",
        size,
        url: `${base}/soak/${fault}/${encodeURIComponent(id)}/${size}`,
        interruptAfterMs: Math.floor(random() * 40)
      }
      result.requests++
      const row = (result.byFault[fault] ??= newFaultRow())
      row.requests++
      const exchange = built.exchange(plan)
      const started = Date.now()
      const attempt: Effect.Effect<Exit.Exit<Observed, unknown>> =
        action === "interrupt"
          ? Effect.flatMap(Effect.fork(exchange), (fiber) => Effect.zipRight(Effect.sleep(Duration.millis(plan.interruptAfterMs)), Fiber.interrupt(fiber)))
          : Effect.exit(exchange)
      return Effect.map(Effect.timeoutOption(Effect.disconnect(attempt), Duration.millis(watchdogMs)), (exit) => {
        if (Option.isNone(exit)) {
          result.hangs++
          row.hangs++
          sample(plan, `still running after ${watchdogMs} ms`)
          return
        }
        const outcome = classifyExit(kind, plan, exit.value)
        switch (outcome._tag) {
          case "ok":
            result.ok++
            row.ok++
            if (fault === "trickleSlow") {
              result.slowHeadsAccepted++
              sample(plan, `a head trickled over ${o.headersTimeoutMs * 2.5} ms was accepted (headersTimeout ${o.headersTimeoutMs} ms)`)
            }
            return
          case "interrupted":
            result.interrupted++
            row.interrupted++
            return
          case "wrong":
            result.wrong++
            row.wrong++
            sample(plan, `wrong response: ${outcome.detail}`)
            return
          case "defect":
            result.defects++
            row.defects++
            sample(plan, `defect: ${outcome.detail}`)
            return
          case "failure":
            result.failed++
            result.failures[outcome.key] = (result.failures[outcome.key] ?? 0) + 1
            row.failures[outcome.key] = (row.failures[outcome.key] ?? 0) + 1
            if (HEALTHY.has(fault) && action !== "interrupt") {
              result.healthyFailed++
              if (result.healthySamples.length < 8) {
                const server_ = server!
                result.healthySamples.push({
                  client: kind,
                  id,
                  fault,
                  action,
                  detail: `${outcome.key} after ${Date.now() - started} ms: ${outcome.message}; server: ${server_.whatHappened(id)}`
                })
              }
            }
            return
        }
      })
    })

    const caller = (i: number) => {
      let first: Fault | undefined = weighted[i % weighted.length]
      return Effect.whileLoop({
        while: () => Date.now() < until,
        body: () => {
          const forced = first
          first = undefined
          return one(forced)
        },
        step: () => {}
      })
    }
    yield* Effect.forEach(Array.from({ length: o.concurrency }, (_, i) => i), caller, { concurrency: "unbounded", discard: true })
    result.poolBeforeClose = built.stats()
    o.log(`${kind}: ${result.requests} requests; closing the client (pool before close: ${JSON.stringify(result.poolBeforeClose)})`)
    const closed = yield* Effect.timeoutOption(Effect.disconnect(Scope.close(scope, Exit.void)), Duration.millis(watchdogMs))
    if (Option.isNone(closed)) {
      result.hangs++
      sample(undefined, `the client's scope did not close within ${watchdogMs} ms`)
    }
    // The server sees the client's sockets close a moment later.
    const graceUntil = Date.now() + o.graceMs
    while (server.open() > 0 && Date.now() < graceUntil) yield* Effect.sleep(Duration.millis(20))
    result.socketsOpenAtEnd = server.open()
    result.socketsAccepted = server.accepted()
    result.garbledRequests = server.garbled() + server.unknown()
    for (const [id, { n, fault }] of server.repeats()) {
      if (n > 3) {
        result.sentMoreThan3Times++
        if (result.healthySamples.length < 12) result.healthySamples.push({ client: kind, id, fault: fault ?? "-", action: "-", detail: `sent ${n} times` })
      }
      result.mostSends = Math.max(result.mostSends, n)
    }
    if (result.garbledRequests > 0) sample(undefined, `${server.garbled()} requests with a foreign x-id, ${server.unknown()} unknown requests at the server`)
  })
  return Effect.runPromise(program)
    .then(() => result)
    .finally(() => server?.close())
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

export const runSoak = async (options: SoakOptions = {}): Promise<SoakResult> => {
  const t0 = Date.now()
  const durationMs = options.durationMs ?? 60_000
  const concurrency = options.concurrency ?? 16
  const clients = options.clients ?? CLIENTS
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31)
  const headersTimeoutMs = options.headersTimeoutMs ?? 1000
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 1000
  const timeoutMs = options.timeoutMs ?? 3000
  const watchdogMs = options.watchdogMs ?? Math.round(timeoutMs * (options.watchdogFactor ?? 2))
  const faultWeights = options.faultWeights ?? DEFAULT_FAULT_WEIGHTS
  const actionWeights = options.actionWeights ?? DEFAULT_ACTION_WEIGHTS
  const graceMs = options.graceMs ?? 1000
  const log = options.log ?? (() => {})

  const { gc, how } = findGc()
  gc?.()
  const startAfterGcMb = gc !== undefined ? heapMb() : undefined

  const processErrors: Array<string> = []
  const onError = (e: unknown) => {
    processErrors.push(String(e instanceof Error ? e.stack : e).slice(0, 400))
  }
  process.on("uncaughtException", onError)
  process.on("unhandledRejection", onError)

  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()
  log(`soak: ${durationMs / 1000} s, ${concurrency} callers per client, clients ${clients.join(", ")}, seed ${seed}`)
  let results: Array<ClientResult>
  try {
    results = await Promise.all(
      clients.map((kind, i) =>
        runClient(kind, i, {
          durationMs,
          concurrency,
          faultWeights,
          actionWeights,
          seed,
          headersTimeoutMs,
          bodyTimeoutMs,
          timeoutMs,
          watchdogMs,
          graceMs,
          log,
          lateShape: options.lateShape?.[kind] ?? (kind === "pipelined" ? "body" : "response"),
          lateDelayMs: options.lateDelayMs ?? 0
        })
      )
    )
  } finally {
    loopDelay.disable()
    process.off("uncaughtException", onError)
    process.off("unhandledRejection", onError)
  }

  const endBeforeGcMb = heapMb()
  gc?.()
  const endAfterGcMb = gc !== undefined ? heapMb() : undefined

  const sum = (f: (r: ClientResult) => number) => results.reduce((s, r) => s + f(r), 0)
  const failures: Record<string, number> = {}
  for (const r of results) for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v
  const totals: SoakResult["totals"] = {
    requests: sum((r) => r.requests),
    ok: sum((r) => r.ok),
    interrupted: sum((r) => r.interrupted),
    failed: sum((r) => r.failed),
    failures,
    wrong: sum((r) => r.wrong),
    defects: sum((r) => r.defects) + processErrors.length,
    hangs: sum((r) => r.hangs),
    slowHeadsAccepted: sum((r) => r.slowHeadsAccepted),
    garbledRequests: sum((r) => r.garbledRequests),
    healthyFailed: sum((r) => r.healthyFailed),
    sentMoreThan3Times: sum((r) => r.sentMoreThan3Times),
    mostSends: Math.max(1, ...results.map((r) => r.mostSends)),
    socketsOpenAtEnd: sum((r) => r.socketsOpenAtEnd)
  }
  return {
    durationMs,
    elapsedMs: Date.now() - t0,
    concurrency,
    seed,
    timeouts: { headersTimeoutMs, bodyTimeoutMs, timeoutMs, watchdogMs },
    faultWeights,
    actionWeights,
    clients: results,
    totals,
    processErrors,
    heap: { gc: how, startAfterGcMb, endBeforeGcMb, endAfterGcMb },
    machine: { node: process.version, cpus: os.cpus().length, loadAverage: os.loadavg() },
    eventLoopDelay: { p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 },
    passed: MUST_BE_ZERO.every(([k]) => totals[k] === 0)
  }
}
