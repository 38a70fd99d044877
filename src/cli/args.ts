/**
 * The command line: `effect-http1 [METHOD] URL [options]`, declared with `@effect/cli`, and its
 * translation into {@link Settings} (plain values, checked: bad values are a `UsageError`).
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Options from "@effect/cli/Options"
import { Either, Option } from "effect"
import { parseDurationMs } from "./duration.js"
import { UsageError } from "./errors.js"

const text = (name: string, alias: string | undefined, description: string) => {
  const o = Options.text(name).pipe(Options.withDescription(description))
  return alias === undefined ? o : Options.withAlias(o, alias)
}
const flag = (name: string, alias: string | undefined, description: string) => {
  const o = Options.boolean(name).pipe(Options.withDescription(description))
  return alias === undefined ? o : Options.withAlias(o, alias)
}

/** The positional arguments and options, as `@effect/cli` parses them. */
export const spec = {
  positional: Args.text({ name: "METHOD URL" }).pipe(
    Args.withDescription("the URL, optionally preceded by a method (GET, POST, ...)"),
    Args.between(1, 2)
  ),
  request: text("request", "X", "the request method").pipe(Options.optional),
  header: text("header", "H", "a request header, \"Name: value\" (repeatable)").pipe(Options.repeated),
  data: text("data", "d", "a request body (POST); @FILE reads a file (newlines removed), @- stdin; repeated ones are joined with &").pipe(Options.repeated),
  dataBinary: text("data-binary", undefined, "a request body sent as it is; @FILE reads a file").pipe(Options.repeated),
  json: text("json", undefined, "a JSON request body (POST, Content-Type and Accept application/json); @FILE reads a file").pipe(Options.repeated),
  head: flag("head", "I", "send HEAD and print the response head"),
  compressed: flag("compressed", undefined, "ask for gzip, deflate or br and decode the body"),
  location: flag("location", "L", "follow redirects"),
  maxRedirs: Options.integer("max-redirs").pipe(Options.withDescription("redirects followed with -L"), Options.withDefault(50)),
  proxy: text("proxy", "x", "an HTTP proxy, http://[user:pass@]host:port (CONNECT for https URLs)").pipe(Options.optional),
  proxyFromEnv: flag("proxy-from-env", undefined, "use HTTP_PROXY / HTTPS_PROXY / NO_PROXY (on by default, as curl)"),
  noProxyFromEnv: flag("no-proxy-from-env", undefined, "ignore the proxy variables of the environment"),
  cacert: text("cacert", undefined, "trust the CA certificates (PEM) in this file instead of the system store").pipe(Options.optional),
  insecure: flag("insecure", "k", "do not verify the server's certificate"),
  unixSocket: text("unix-socket", undefined, "connect to this Unix domain socket").pipe(Options.optional),
  connectTimeout: text("connect-timeout", undefined, "limit for connect and TLS handshake (seconds, or 500ms, 2s)").pipe(Options.optional),
  maxTime: text("max-time", "m", "limit for the whole exchange (seconds, or 500ms, 2s)").pipe(Options.optional),
  retry: Options.integer("retry").pipe(Options.withDescription("retries after a retryable failure (connect, reset before a response, ...)"), Options.withDefault(0)),
  output: text("output", "o", "write the body to this file").pipe(Options.optional),
  remoteName: flag("remote-name", "O", "write the body to a file named like the URL's last path segment"),
  include: flag("include", "i", "print the response head before the body"),
  silent: flag("silent", "s", "no progress bar and no error line"),
  showError: flag("show-error", "S", "with -s, still print the error line"),
  verbose: flag("verbose", "v", "print the wire log on stderr: > request, < response, * connection events"),
  fail: flag("fail", "f", "exit 22 on an HTTP status of 400 or more (the body is not printed)"),
  repeat: Options.integer("repeat").pipe(Options.withDescription("load mode: send the request N times"), Options.optional),
  concurrency: Options.integer("concurrency").pipe(Options.withDescription("load mode: requests in flight (and sockets)"), Options.withDefault(1)),
  duration: text("duration", undefined, "load mode: send the request for this long (10s, 1m)").pipe(Options.optional)
} as const

/** What {@link spec} parses to. */
export interface Parsed {
  readonly positional: ReadonlyArray<string>
  readonly request: Option.Option<string>
  readonly header: ReadonlyArray<string>
  readonly data: ReadonlyArray<string>
  readonly dataBinary: ReadonlyArray<string>
  readonly json: ReadonlyArray<string>
  readonly head: boolean
  readonly compressed: boolean
  readonly location: boolean
  readonly maxRedirs: number
  readonly proxy: Option.Option<string>
  readonly proxyFromEnv: boolean
  readonly noProxyFromEnv: boolean
  readonly cacert: Option.Option<string>
  readonly insecure: boolean
  readonly unixSocket: Option.Option<string>
  readonly connectTimeout: Option.Option<string>
  readonly maxTime: Option.Option<string>
  readonly retry: number
  readonly output: Option.Option<string>
  readonly remoteName: boolean
  readonly include: boolean
  readonly silent: boolean
  readonly showError: boolean
  readonly verbose: boolean
  readonly fail: boolean
  readonly repeat: Option.Option<number>
  readonly concurrency: number
  readonly duration: Option.Option<string>
}

/** A body source as given: inline text, a file, or stdin; `binary` keeps newlines. */
export interface DataPart {
  readonly kind: "text" | "file" | "stdin"
  readonly value: string
  readonly binary: boolean
}

/** Load mode: `--repeat` and/or `--duration`, with `--concurrency`. */
export interface LoadSettings {
  readonly repeat: number | undefined
  readonly durationMs: number | undefined
  readonly concurrency: number
}

/** The command line, checked. */
export interface Settings {
  readonly method: string
  readonly url: string
  readonly headers: ReadonlyArray<readonly [string, string]>
  /** Body parts, joined with `&` (`-d`) or concatenated; empty: no body. */
  readonly data: ReadonlyArray<DataPart>
  readonly dataMode: "form" | "binary" | "json" | "none"
  readonly head: boolean
  readonly compressed: boolean
  readonly followRedirects: number
  readonly proxy: string | undefined
  readonly proxyFromEnv: boolean
  readonly cacert: string | undefined
  readonly insecure: boolean
  readonly unixSocket: string | undefined
  readonly connectTimeoutMs: number | undefined
  readonly maxTimeMs: number | undefined
  readonly retry: number
  readonly output: string | undefined
  readonly include: boolean
  readonly silent: boolean
  readonly showError: boolean
  readonly verbose: boolean
  readonly fail: boolean
  readonly load: LoadSettings | undefined
}

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

const dataPart = (value: string, binary: boolean): DataPart =>
  value === "@-" ? { kind: "stdin", value, binary } : value.startsWith("@") ? { kind: "file", value: value.slice(1), binary } : { kind: "text", value, binary }

const duration = (name: string, value: Option.Option<string>): Either.Either<number | undefined, UsageError> => {
  if (Option.isNone(value)) return Either.right(undefined)
  const ms = parseDurationMs(value.value)
  return ms === undefined
    ? Either.left(new UsageError({ reason: `--${name} ${JSON.stringify(value.value)} is not a duration (seconds, or 500ms, 10s, 1m)` }))
    : Either.right(ms)
}

/** The file name `-O` writes to: the URL path's last segment. */
export const remoteFileName = (url: string): string | undefined => {
  try {
    const segment = decodeURIComponent(new URL(url).pathname.split("/").pop() ?? "")
    return segment === "" || segment === "." || segment === ".." || segment.includes("\\") ? undefined : segment
  } catch {
    return undefined
  }
}

/** Checks the parsed command line and turns it into {@link Settings}. */
export const toSettings = (p: Parsed): Either.Either<Settings, UsageError> =>
  Either.gen(function* () {
    const usage = (reason: string) => Either.left(new UsageError({ reason }))
    let url = p.positional[p.positional.length - 1]!
    const positionalMethod = p.positional.length === 2 ? p.positional[0] : undefined
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) url = `http://${url}`
    const headers: Array<readonly [string, string]> = []
    for (const h of p.header) {
      const colon = h.indexOf(":")
      if (colon <= 0) return yield* usage(`-H ${JSON.stringify(h)}: expected "Name: value"`)
      headers.push([h.slice(0, colon).trim(), h.slice(colon + 1).trim()])
    }
    const modes = [p.data.length > 0, p.dataBinary.length > 0, p.json.length > 0].filter(Boolean).length
    if (modes > 1) return yield* usage("use one of -d, --data-binary and --json")
    const dataMode = p.json.length > 0 ? "json" : p.dataBinary.length > 0 ? "binary" : p.data.length > 0 ? "form" : "none"
    const data =
      dataMode === "json" ? p.json.map((v) => dataPart(v, true)) : dataMode === "binary" ? p.dataBinary.map((v) => dataPart(v, true)) : p.data.map((v) => dataPart(v, false))
    // @effect/cli leaves an unknown option among the positional arguments.
    const unknown = p.positional.find((a) => a.startsWith("-"))
    if (unknown !== undefined) return yield* usage(`unknown option ${unknown} (see --help)`)
    const explicit = Option.getOrUndefined(p.request) ?? positionalMethod
    if (explicit !== undefined && !METHOD.test(explicit)) return yield* usage(`${JSON.stringify(explicit)} is not a method`)
    if (p.head && data.length > 0) return yield* usage("-I (HEAD) takes no request body")
    const method = explicit !== undefined ? explicit.toUpperCase() : p.head ? "HEAD" : data.length > 0 ? "POST" : "GET"
    const connectTimeoutMs = yield* duration("connect-timeout", p.connectTimeout)
    const maxTimeMs = yield* duration("max-time", p.maxTime)
    const durationMs = yield* duration("duration", p.duration)
    if (p.retry < 0) return yield* usage("--retry must be 0 or more")
    if (p.maxRedirs < 0) return yield* usage("--max-redirs must be 0 or more")
    if (p.concurrency < 1) return yield* usage("--concurrency must be 1 or more")
    const repeat = Option.getOrUndefined(p.repeat)
    if (repeat !== undefined && repeat < 1) return yield* usage("--repeat must be 1 or more")
    const load = repeat !== undefined || durationMs !== undefined ? { repeat, durationMs, concurrency: p.concurrency } : undefined
    if (load === undefined && p.concurrency !== 1) return yield* usage("--concurrency needs --repeat or --duration")
    if (load !== undefined && data.some((d) => d.kind === "stdin")) return yield* usage("load mode cannot read the body from stdin")
    let output = Option.getOrUndefined(p.output)
    if (p.remoteName) {
      if (output !== undefined) return yield* usage("use -o or -O, not both")
      output = remoteFileName(url)
      if (output === undefined) return yield* usage(`-O: the URL ${JSON.stringify(url)} has no file name`)
    }
    return {
      method,
      url,
      headers,
      data,
      dataMode,
      head: p.head,
      compressed: p.compressed,
      followRedirects: p.location ? p.maxRedirs : 0,
      proxy: Option.getOrUndefined(p.proxy),
      proxyFromEnv: !p.noProxyFromEnv,
      cacert: Option.getOrUndefined(p.cacert),
      insecure: p.insecure,
      unixSocket: Option.getOrUndefined(p.unixSocket),
      connectTimeoutMs,
      maxTimeMs,
      retry: p.retry,
      output,
      include: p.include || p.head,
      silent: p.silent,
      showError: p.showError,
      verbose: p.verbose,
      fail: p.fail,
      load
    } satisfies Settings
  })
