/**
 * The pieces both modes share: the pooled client built from the settings (over a tapped
 * transport), the request body and headers, and where a request goes (for error lines).
 * @since 0.1.0
 */
import { readFileSync } from "node:fs"
import { Effect, Schedule, type Scope } from "effect"
// The library's public modules, one by one (not the index: the command loads only what it uses).
import * as Http1Error from "../Http1Error.js"
import * as HttpClient from "../HttpClient.js"
import * as Transport from "../Transport.js"
import type { Settings } from "./args.js"
import { UsageError, type Where } from "./errors.js"
import { tapTransport, type LogLine, type SocketCounter } from "./wire.js"

/** The version in package.json (`?` when it cannot be read). */
export const version = ((): string => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown }
    return typeof pkg.version === "string" ? pkg.version : "?"
  } catch {
    return "?"
  }
})()

/** The pooled client for these settings; sockets go through {@link tapTransport}. */
export const makeClient = (
  s: Settings,
  counter: SocketCounter,
  log: LogLine | undefined,
  maxConnectionsPerOrigin: number
): Effect.Effect<HttpClient.HttpClientService, Http1Error.InvalidTlsOptions | UsageError, Scope.Scope> =>
  Effect.gen(function* () {
    let ca: string | undefined
    if (s.cacert !== undefined) {
      const file = s.cacert
      ca = yield* Effect.try({
        try: () => readFileSync(file, "utf8"),
        catch: (e) => new UsageError({ reason: `--cacert ${file}: ${e instanceof Error ? e.message : String(e)}` })
      })
    }
    const tls: Transport.TlsOptions = { rejectUnauthorized: !s.insecure, ...(ca === undefined ? {} : { ca }) }
    const options = {
      maxConnectionsPerOrigin,
      followRedirects: s.followRedirects,
      proxy: s.proxy,
      proxyFromEnv: s.proxyFromEnv,
      socketPath: s.unixSocket,
      connectTimeout: s.connectTimeoutMs,
      timeout: s.maxTimeMs,
      tls,
      decompress: s.compressed,
      // No spans and no traceparent / b3 headers: the command sends what it is told to.
      tracing: false
    }
    const inner = yield* Effect.provide(Transport.Transport, Transport.layer)
    return yield* HttpClient.make(options).pipe(Effect.provideService(Transport.Transport, tapTransport(inner, counter, log)))
  })

const readStdin: Effect.Effect<Uint8Array, UsageError> = Effect.tryPromise({
  try: async () => {
    const chunks: Array<Buffer> = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  },
  catch: (e) => new UsageError({ reason: `cannot read stdin: ${e instanceof Error ? e.message : String(e)}` })
})

/** The request body of `-d` / `--data-binary` / `--json` (`undefined`: none). */
export const readBody = (s: Settings): Effect.Effect<Uint8Array | undefined, UsageError> =>
  Effect.gen(function* () {
    if (s.data.length === 0) return undefined
    const parts: Array<Buffer> = []
    for (const part of s.data) {
      let bytes: Buffer
      if (part.kind === "text") bytes = Buffer.from(part.value, "utf8")
      else if (part.kind === "stdin") bytes = Buffer.from(yield* readStdin)
      else {
        const file = part.value
        bytes = yield* Effect.try({
          try: () => readFileSync(file),
          catch: (e) => new UsageError({ reason: `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}` })
        })
      }
      // curl: `-d @file` drops carriage returns and newlines; --data-binary keeps every byte.
      if (!part.binary && part.kind !== "text") bytes = Buffer.from(bytes.toString("latin1").replace(/[\r\n]/g, ""), "latin1")
      parts.push(bytes)
    }
    const sep = s.dataMode === "json" ? "" : "&"
    const joined: Array<Buffer> = []
    parts.forEach((p, i) => {
      if (i > 0 && sep !== "") joined.push(Buffer.from(sep))
      joined.push(p)
    })
    return new Uint8Array(Buffer.concat(joined))
  })

/**
 * The request headers: the defaults (`User-Agent`, `Accept`, a body's `Content-Type`) unless the
 * caller gave that name; `-H "Name:"` with nothing after the colon removes a default.
 */
export const requestHeaders = (s: Settings): Array<[string, string]> => {
  const given = new Set(s.headers.map(([k]) => k.toLowerCase()))
  const out: Array<[string, string]> = []
  const def = (k: string, v: string) => {
    if (!given.has(k.toLowerCase())) out.push([k, v])
  }
  def("User-Agent", `effect-http1/${version}`)
  def("Accept", s.dataMode === "json" ? "application/json" : "*/*")
  if (s.dataMode === "json") def("Content-Type", "application/json")
  if (s.dataMode === "form") def("Content-Type", "application/x-www-form-urlencoded")
  for (const [k, v] of s.headers) if (v !== "") out.push([k, v])
  return out
}

/** Method, host and port of a URL, for error lines. */
export const whereOf = (method: string, url: string): Where => {
  try {
    const u = new URL(url)
    const port = u.port !== "" ? Number(u.port) : u.protocol === "https:" ? 443 : 80
    return { method, host: u.hostname.replace(/^\[|\]$/g, ""), port }
  } catch {
    return { method, host: "", port: 0 }
  }
}

/**
 * `--retry N`: exponential backoff from 100 ms (jittered), at most N retries, only after a
 * failure `Http1Error.isRetryable` calls safe; a request that is not idempotent is retried only
 * when it cannot have reached the server (connect failures).
 */
export const retrySchedule = (retries: number, method: string): Schedule.Schedule<unknown, unknown> =>
  Schedule.exponential("100 millis").pipe(
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(retries)),
    Schedule.whileInput((e: unknown) => canRetry(e, method))
  )

/** Whether `--retry` may send the request again after `e`. */
export const canRetry = (e: unknown, method: string): boolean => {
  if (!Http1Error.isRetryable(e)) return false
  if (HttpClient.isIdempotent(method)) return true
  const tag = (e as { _tag: string })._tag
  return tag === "ConnectError" || (tag === "TimeoutError" && (e as Http1Error.TimeoutError).phase === "connect")
}
