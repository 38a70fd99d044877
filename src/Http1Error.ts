/**
 * Every failure effect-http1 can report, one `Data.TaggedError` class per failure, their union
 * {@link Http1Error}, and predicates over groups of them.
 *
 * Users branch with `Effect.catchTag("IncompleteRead", ...)`; the `_tag` values are part of the
 * public contract. Each class carries the fields a handler needs to act, and a readable `message`
 * that names the host, port and what was seen.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Http1Error } from "effect-http1"
 *
 * const body = res.read().pipe(
 *   Effect.catchTag("IncompleteRead", (e) => Effect.succeed(e.partial))
 * )
 * ```
 * @since 0.1.0
 */
import { Data } from "effect"

/** Where a connection-level failure happened; attached to errors raised on a live connection. */
export interface ConnectionContext {
  readonly method?: string | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  /** true when the failure happened on a connection that had already served a response. */
  readonly reusedConnection?: boolean | undefined
}

const where = (c: ConnectionContext): string => {
  const parts: Array<string> = []
  if (c.method !== undefined) parts.push(c.method)
  if (c.host !== undefined) parts.push(c.port !== undefined ? `${hostForMessage(c.host)}:${c.port}` : c.host)
  if (c.reusedConnection === true) parts.push("(reused connection)")
  return parts.length === 0 ? "" : ` [${parts.join(" ")}]`
}

const hostForMessage = (host: string) => (host.includes(":") && !host.startsWith("[") ? `[${host}]` : host)

/** Renders up to 64 bytes of what the peer sent, for error messages. */
const showBytes = (bytes: string | Uint8Array | undefined, max = 64): string => {
  if (bytes === undefined) return "<nothing>"
  let s = ""
  const n = Math.min(bytes.length, max)
  for (let i = 0; i < n; i++) {
    const c = typeof bytes === "string" ? bytes.charCodeAt(i) : bytes[i]!
    if (c === 0x0d) s += "\\r"
    else if (c === 0x0a) s += "\\n"
    else if (c === 0x09) s += "\\t"
    else if (c === 0x5c) s += "\\\\"
    else if (c < 0x20 || c >= 0x7f) s += "\\x" + c.toString(16).padStart(2, "0")
    else s += String.fromCharCode(c)
  }
  return JSON.stringify(s).slice(1, -1).replace(/\\\\/g, "\\") + (bytes.length > max ? `... (${bytes.length} bytes)` : "")
}

// ---------------------------------------------------------------------------------------------
// Caller errors: what we refuse to send
// ---------------------------------------------------------------------------------------------

/** A URL, port, or request target we refuse: bad syntax, bad port, control characters or whitespace. */
export class InvalidURL extends Data.TaggedError("InvalidURL")<{
  readonly url: string
  readonly reason: string
} & ConnectionContext> {
  override get message() {
    return `Invalid URL ${JSON.stringify(this.url)}: ${this.reason}${where(this)}`
  }
}

/** A request method with characters outside the RFC 9110 token grammar. */
export class InvalidMethod extends Data.TaggedError("InvalidMethod")<{
  readonly method: string
} & ConnectionContext> {
  override get message() {
    return `Invalid method ${JSON.stringify(this.method)}: methods must be RFC 9110 tokens${where(this)}`
  }
}

/**
 * A header field that would break the message: a name outside the token grammar, or a value with
 * CR, LF, NUL or another control character. `side` says whether we refused to send it
 * (`"request"`) or the server sent it (`"response"`); trailers follow the same rules.
 */
export class InvalidHeader extends Data.TaggedError("InvalidHeader")<{
  readonly side: "request" | "response"
  /** The field name as given or received (`header`, not `name`, so `Error#name` stays "InvalidHeader"). */
  readonly header: string
  readonly value?: string | undefined
  readonly reason: string
} & ConnectionContext> {
  override get message() {
    const v = this.value === undefined ? "" : `: ${showBytes(this.value)}`
    return `Invalid ${this.side} header ${showBytes(this.header)}${v} (${this.reason})${where(this)}`
  }
}

/**
 * The request's framing headers, as the caller gave them, would let the body be read differently
 * by the server than we send it (request smuggling): a `Transfer-Encoding` other than exactly
 * `chunked`, `Transfer-Encoding` together with `Content-Length`, a `Content-Length` that is not one
 * value of plain digits, or a body after a head that declares none. Refused before a byte is written.
 */
export class InvalidRequestFraming extends Data.TaggedError("InvalidRequestFraming")<{
  readonly reason: string
  /** The offending field, when one is to blame. */
  readonly header?: string | undefined
  readonly value?: string | undefined
} & ConnectionContext> {
  override get message() {
    const field = this.header === undefined ? "" : ` (${this.header}${this.value === undefined ? "" : `: ${showBytes(this.value)}`})`
    return `Refused request framing: ${this.reason}${field}${where(this)}`
  }
}

/**
 * The request body's length differs from the `Content-Length` the caller gave (undici's
 * `RequestContentLengthMismatchError`). `when: "before-send"`: a body of known length, refused
 * before a byte was written. `when: "while-sending"`: a streamed body ended short (`actual` <
 * `declared`) or ran over; the socket is closed and never reused.
 */
export class ContentLengthMismatch extends Data.TaggedError("ContentLengthMismatch")<{
  readonly declared: number
  /** Body bytes given (before-send) or produced so far (while-sending; a run-over counts the chunk that ran over). */
  readonly actual: number
  readonly when: "before-send" | "while-sending"
} & ConnectionContext> {
  override get message() {
    return `Request body of ${this.actual} bytes does not match Content-Length ${this.declared}${
      this.when === "while-sending" ? " (connection closed)" : " (nothing sent)"
    }${where(this)}`
  }
}

/** Reading the caller's request body (an iterator or async iterator) failed; `cause` is what it threw. */
export class RequestBodyError extends Data.TaggedError("RequestBodyError")<{
  readonly cause: unknown
} & ConnectionContext> {
  override get message() {
    const detail = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `Request body source failed: ${detail}${where(this)}`
  }
}

/**
 * TLS options we refuse, found when a layer or client is built or before a connect opens a
 * socket: a key node:tls has but this client does not honour (`secureProtocol`, `session`,
 * server-side options, ...), a key we do not know, or a value of the wrong shape (TLS 1.0,
 * `minVersion` above `maxVersion`, ...). `option` names the key (`"tls"` when the options are not
 * an object). A caller error: not retryable, not a transport error.
 */
export class InvalidTlsOptions extends Data.TaggedError("InvalidTlsOptions")<{
  readonly option: string
  readonly reason: string
}> {
  override get message() {
    return `Invalid TLS option ${JSON.stringify(this.option)}: ${this.reason}`
  }
}

// ---------------------------------------------------------------------------------------------
// Improper connection state (http.client's ImproperConnectionState family)
// ---------------------------------------------------------------------------------------------

/** The connection is closed and cannot reopen automatically (e.g. `send` before `request`). */
export class NotConnected extends Data.TaggedError("NotConnected")<{
  readonly reason: string
} & ConnectionContext> {
  override get message() {
    return `Not connected: ${this.reason}${where(this)}`
  }
}

/** A request was started while another one is still in progress on the connection. */
export class CannotSendRequest extends Data.TaggedError("CannotSendRequest")<{
  readonly state: string
} & ConnectionContext> {
  override get message() {
    return `Cannot send request: connection state is ${this.state}${where(this)}`
  }
}

/** A header was added after the header block was finished (or before a request line). */
export class CannotSendHeader extends Data.TaggedError("CannotSendHeader")<{
  readonly state: string
} & ConnectionContext> {
  override get message() {
    return `Cannot send header: connection state is ${this.state}${where(this)}`
  }
}

/** `getResponse` was called before a request was sent, or while a previous response is unread. */
export class ResponseNotReady extends Data.TaggedError("ResponseNotReady")<{
  readonly state: string
} & ConnectionContext> {
  override get message() {
    return `Response not ready: connection state is ${this.state}${where(this)}`
  }
}

// ---------------------------------------------------------------------------------------------
// Transport errors
// ---------------------------------------------------------------------------------------------

/** The connection could not be established: refused, unreachable, DNS failure. */
export class ConnectError extends Data.TaggedError("ConnectError")<{
  readonly host: string
  readonly port: number
  readonly cause: unknown
  /** The system error code when there is one (`ECONNREFUSED`, `ENOTFOUND`, `ENOENT`, ...). */
  readonly code?: string | undefined
  /** The Unix domain socket connected to (`ConnectOptions.socketPath`), when there was one. */
  readonly socketPath?: string | undefined
}> {
  override get message() {
    const detail = this.cause instanceof Error ? this.cause.message : String(this.cause)
    const via = this.socketPath === undefined ? "" : ` through the Unix socket ${JSON.stringify(this.socketPath)}`
    return `Cannot connect to ${hostForMessage(this.host)}:${this.port}${via}: ${detail}`
  }
}

/** Which wait ran out: connect, a write, the response head, between body bytes, or the whole exchange. */
export type TimeoutPhase = "connect" | "write" | "headers" | "body" | "total"

/** A timeout fired. `phase` says which wait ran out. */
export class TimeoutError extends Data.TaggedError("TimeoutError")<{
  readonly phase: TimeoutPhase
  /** The limit in milliseconds. */
  readonly timeoutMs: number
  /** Response bytes seen before the timeout, if any. */
  readonly bytesReceived?: number | undefined
  /** More on what was waited for (e.g. the pool's state for a request queued for a connection). */
  readonly detail?: string | undefined
} & ConnectionContext> {
  override get message() {
    const detail = this.detail === undefined ? "" : ` (${this.detail})`
    return `Timed out after ${this.timeoutMs} ms waiting for ${phaseText[this.phase]}${detail}${where(this)}`
  }
}
const phaseText: Record<TimeoutPhase, string> = {
  connect: "the connection",
  write: "the request to be written",
  headers: "the response head",
  body: "response body bytes",
  total: "the whole exchange"
}

/** The TLS handshake or certificate verification failed. */
export class TlsError extends Data.TaggedError("TlsError")<{
  readonly host: string
  readonly port: number
  readonly reason: string
  /** node:tls / OpenSSL code, e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`, `ERR_TLS_CERT_ALTNAME_INVALID`. */
  readonly code?: string | undefined
  readonly cause?: unknown
}> {
  override get message() {
    return `TLS failure with ${hostForMessage(this.host)}:${this.port}: ${this.reason}${this.code ? ` (${this.code})` : ""}`
  }
}

/**
 * The connection failed while sending or receiving (reset, broken pipe) other than a clean close
 * before the status line. `beforeResponse` is true when no response byte had arrived.
 */
export class ConnectionReset extends Data.TaggedError("ConnectionReset")<{
  readonly cause: unknown
  readonly code?: string | undefined
  readonly beforeResponse: boolean
} & ConnectionContext> {
  override get message() {
    const detail = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `Connection reset${this.beforeResponse ? " before any response byte" : ""}: ${detail}${where(this)}`
  }
}

/**
 * The server closed the connection before sending any byte of a status line: a clean close, or a
 * reset (then `code` is the OS code, e.g. `ECONNRESET`, and `cause` the socket error).
 */
export class RemoteDisconnected extends Data.TaggedError("RemoteDisconnected")<{
  readonly code?: string | undefined
  readonly cause?: unknown
} & ConnectionContext> {
  override get message() {
    return `Remote end closed connection without response${this.code === undefined ? "" : ` (${this.code})`}${where(this)}`
  }
}

// ---------------------------------------------------------------------------------------------
// Protocol errors: the peer sent something we will not read
// ---------------------------------------------------------------------------------------------

/** The status line is malformed. `line` is what was received (Latin-1). */
export class BadStatusLine extends Data.TaggedError("BadStatusLine")<{
  readonly line: string
} & ConnectionContext> {
  override get message() {
    return `Bad status line: "${showBytes(this.line)}"${where(this)}`
  }
}

/** An HTTP version we do not speak (`HTTP/2.0`, `HTTP/0.8`, ...). */
export class UnknownProtocol extends Data.TaggedError("UnknownProtocol")<{
  readonly version: string
} & ConnectionContext> {
  override get message() {
    return `Unknown protocol version "${showBytes(this.version)}"${where(this)}`
  }
}

/** What a {@link LineTooLong} limit applied to. */
export type LineKind = "status line" | "header line" | "head" | "chunk size line" | "trailer line"

/** A status, header, chunk-size or trailer line (or the whole head) over its limit. */
export class LineTooLong extends Data.TaggedError("LineTooLong")<{
  readonly what: LineKind
  readonly limit: number
} & ConnectionContext> {
  override get message() {
    return `${this.what} longer than ${this.limit} bytes${where(this)}`
  }
}

/** What a {@link TooManyHeaders} limit applied to. */
export type CountKind = "headers" | "trailers" | "interim responses"

/** More header fields, trailer fields or 1xx interim responses than the limit. */
export class TooManyHeaders extends Data.TaggedError("TooManyHeaders")<{
  readonly what: CountKind
  readonly limit: number
} & ConnectionContext> {
  override get message() {
    return `More than ${this.limit} ${this.what}${where(this)}`
  }
}

/** A proxy answered CONNECT with a non-2xx status. */
export class TunnelError extends Data.TaggedError("TunnelError")<{
  readonly status: number
  readonly reason: string
  readonly proxyHost?: string | undefined
  readonly proxyPort?: number | undefined
  readonly target?: string | undefined
}> {
  override get message() {
    const via =
      this.proxyHost === undefined
        ? ""
        : ` via ${hostForMessage(this.proxyHost)}${this.proxyPort === undefined ? "" : `:${this.proxyPort}`}`
    return `Tunnel connection failed: ${this.status} ${this.reason}${this.target ? ` (CONNECT ${this.target}${via})` : via}`
  }
}

/** The pooled client's queue of waiting requests for an origin is full. */
export class PoolExhausted extends Data.TaggedError("PoolExhausted")<{
  readonly origin: string
  readonly maxPending: number
}> {
  override get message() {
    return `Pool for ${this.origin} exhausted: ${this.maxPending} requests already waiting for a connection`
  }
}

/** More redirects than `followRedirects` allows. */
export class TooManyRedirects extends Data.TaggedError("TooManyRedirects")<{
  readonly location: string
  readonly count: number
}> {
  override get message() {
    return `Too many redirects (${this.count}); last Location: ${this.location}`
  }
}

/**
 * A Content-Length we refuse: not one value of plain digits, conflicting repeats, or
 * Content-Length together with Transfer-Encoding (a request-smuggling defence).
 */
export class InvalidContentLength extends Data.TaggedError("InvalidContentLength")<{
  readonly value: string
  readonly reason: string
} & ConnectionContext> {
  override get message() {
    return `Invalid Content-Length "${showBytes(this.value)}": ${this.reason}${where(this)}`
  }
}

/** A malformed chunk-size line or chunk terminator. */
export class InvalidChunk extends Data.TaggedError("InvalidChunk")<{
  readonly reason: string
  /** The bytes around the fault, Latin-1. */
  readonly seen?: string | undefined
} & ConnectionContext> {
  override get message() {
    return `Invalid chunked encoding: ${this.reason}${this.seen === undefined ? "" : ` near "${showBytes(this.seen)}"`}${where(this)}`
  }
}

/** A Transfer-Encoding we cannot frame: anything but one final, exact `chunked`. */
export class UnknownTransferEncoding extends Data.TaggedError("UnknownTransferEncoding")<{
  readonly value: string
} & ConnectionContext> {
  override get message() {
    return `Unsupported Transfer-Encoding "${showBytes(this.value)}"${where(this)}`
  }
}

/**
 * The body ended before its framing said it would. `partial` is what arrived; `expected` is the
 * number of bytes still missing when known (as CPython's `IncompleteRead.expected`).
 */
export class IncompleteRead extends Data.TaggedError("IncompleteRead")<{
  readonly partial: Uint8Array
  readonly expected: number | undefined
} & ConnectionContext> {
  override get message() {
    const more = this.expected === undefined ? "" : `, ${this.expected} more expected`
    return `IncompleteRead(${this.partial.length} bytes read${more})${where(this)}`
  }
}

/**
 * A read that buffers the whole body (`read()`, `text`, `json`, `bytes`, the platform adapter's
 * `arrayBuffer` / `text` / `json`) went past `limit` bytes: the `maxBodySize` option, or Node's own
 * largest Buffer or string. `received` is how many bytes had come when it stopped. The connection
 * is closed.
 */
export class BodyTooLarge extends Data.TaggedError("BodyTooLarge")<{
  readonly limit: number
  readonly received: number
  /** What set the limit. */
  readonly what: "maxBodySize" | "maxStreamedBodySize" | "node buffer limit" | "node string limit"
} & ConnectionContext> {
  override get message() {
    return `Response body over ${this.limit} bytes (${this.what}); ${this.received} bytes received${where(this)}`
  }
}

/** A response body could not be decoded as asked (e.g. `json` on a body that is not JSON). */
export class DecodeError extends Data.TaggedError("DecodeError")<{
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return `Cannot decode response body: ${this.reason}`
  }
}

/**
 * A response body sent with `Content-Encoding: gzip`, `deflate` or `br` could not be decoded (the
 * client's `decompress` option): corrupt or truncated compressed data. `encoding` is the
 * content-coding; `cause` node:zlib's error. The connection is closed.
 */
export class DecompressionError extends Data.TaggedError("DecompressionError")<{
  readonly encoding: string
  readonly reason: string
  readonly cause?: unknown
} & ConnectionContext> {
  override get message() {
    return `Cannot decompress the ${this.encoding} response body: ${this.reason}${where(this)}`
  }
}

/**
 * The request was aborted through its `signal` option (an `AbortSignal`): before it was sent
 * (the signal was already aborted: nothing was connected), while it waited for its response, or
 * while its body was read. `reason` is the signal's `reason`. The connection is closed.
 */
export class RequestAborted extends Data.TaggedError("RequestAborted")<{
  readonly reason?: unknown
} & ConnectionContext> {
  override get message() {
    const r = this.reason instanceof Error ? `: ${this.reason.message}` : typeof this.reason === "string" ? `: ${this.reason}` : ""
    return `Request aborted${r}${where(this)}`
  }
}

// ---------------------------------------------------------------------------------------------
// Unions and predicates
// ---------------------------------------------------------------------------------------------

/** http.client's `ImproperConnectionState`: the connection was used out of order. */
export type ImproperConnectionState = CannotSendRequest | CannotSendHeader | ResponseNotReady

/** The peer violated HTTP/1.1 framing or limits. */
export type ProtocolError =
  | BadStatusLine
  | UnknownProtocol
  | LineTooLong
  | TooManyHeaders
  | InvalidContentLength
  | InvalidChunk
  | UnknownTransferEncoding
  | InvalidHeader
  | IncompleteRead

/** The network failed us. */
export type TransportError = ConnectError | TimeoutError | TlsError | RemoteDisconnected | ConnectionReset

/** Every error effect-http1 reports. */
export type Http1Error =
  | InvalidURL
  | InvalidMethod
  | InvalidHeader
  | InvalidRequestFraming
  | ContentLengthMismatch
  | RequestBodyError
  | InvalidTlsOptions
  | DecodeError
  | DecompressionError
  | RequestAborted
  | BodyTooLarge
  | NotConnected
  | CannotSendRequest
  | CannotSendHeader
  | ResponseNotReady
  | ConnectError
  | TimeoutError
  | TlsError
  | ConnectionReset
  | RemoteDisconnected
  | BadStatusLine
  | UnknownProtocol
  | LineTooLong
  | TooManyHeaders
  | TunnelError
  | PoolExhausted
  | TooManyRedirects
  | InvalidContentLength
  | InvalidChunk
  | UnknownTransferEncoding
  | IncompleteRead

/** One key per member of {@link Http1Error}: a missing or extra tag fails to compile. */
const tagMap = {
  InvalidURL: true,
  InvalidMethod: true,
  InvalidHeader: true,
  InvalidRequestFraming: true,
  ContentLengthMismatch: true,
  InvalidTlsOptions: true,
  RequestBodyError: true,
  DecodeError: true,
  DecompressionError: true,
  RequestAborted: true,
  BodyTooLarge: true,
  NotConnected: true,
  CannotSendRequest: true,
  CannotSendHeader: true,
  ResponseNotReady: true,
  ConnectError: true,
  TimeoutError: true,
  TlsError: true,
  ConnectionReset: true,
  RemoteDisconnected: true,
  BadStatusLine: true,
  UnknownProtocol: true,
  LineTooLong: true,
  TooManyHeaders: true,
  TunnelError: true,
  PoolExhausted: true,
  TooManyRedirects: true,
  InvalidContentLength: true,
  InvalidChunk: true,
  UnknownTransferEncoding: true,
  IncompleteRead: true
} as const satisfies { readonly [K in Http1Error["_tag"]]: true }

/**
 * Every `_tag` of {@link Http1Error}, derived from the union (it cannot miss one).
 * @since 0.1.0
 */
export const tags: ReadonlyArray<Http1Error["_tag"]> = Object.keys(tagMap) as Array<keyof typeof tagMap>

const tagOf = (u: unknown): string | undefined =>
  typeof u === "object" && u !== null && "_tag" in u && typeof (u as { _tag: unknown })._tag === "string"
    ? (u as { _tag: string })._tag
    : undefined

const protocolTags = new Set([
  "BadStatusLine",
  "UnknownProtocol",
  "LineTooLong",
  "TooManyHeaders",
  "InvalidContentLength",
  "InvalidChunk",
  "UnknownTransferEncoding",
  "IncompleteRead"
])
const transportTags = new Set(["ConnectError", "TimeoutError", "TlsError", "RemoteDisconnected", "ConnectionReset"])
const improperTags = new Set(["CannotSendRequest", "CannotSendHeader", "ResponseNotReady"])
const allTags: ReadonlySet<string> = new Set(tags)

/** Whether `u` is one of effect-http1's errors. */
export const isHttp1Error = (u: unknown): u is Http1Error => {
  const t = tagOf(u)
  return t !== undefined && allTags.has(t)
}

/** The peer broke the protocol (framing, limits, malformed head; `InvalidHeader` from the response side). */
export const isProtocolError = (u: unknown): u is ProtocolError => {
  const t = tagOf(u)
  if (t === "InvalidHeader") return (u as InvalidHeader).side === "response"
  return t !== undefined && protocolTags.has(t)
}

/** The network failed: connect, TLS, timeouts, resets, remote close. */
export const isTransportError = (u: unknown): u is TransportError => {
  const t = tagOf(u)
  return t !== undefined && transportTags.has(t)
}

/** The connection was used out of order (Python's `ImproperConnectionState`). */
export const isImproperConnectionState = (u: unknown): u is ImproperConnectionState => {
  const t = tagOf(u)
  return t !== undefined && improperTags.has(t)
}

/**
 * Whether retrying an *idempotent* request on a new connection is safe after this failure:
 * the server cannot have acted on the request, or the failure is a transient one of the network.
 * True for `RemoteDisconnected`, `ConnectError`, a connect or headers `TimeoutError`, and a reset
 * before any response byte; false for protocol violations and caller errors (`InvalidTlsOptions`
 * included: a retry would be refused the same way).
 */
export const isRetryable = (u: unknown): boolean => {
  switch (tagOf(u)) {
    case "RemoteDisconnected":
    case "ConnectError":
      return true
    case "TimeoutError": {
      const phase = (u as TimeoutError).phase
      return phase === "connect" || phase === "headers"
    }
    case "ConnectionReset":
      return (u as ConnectionReset).beforeResponse
    default:
      return false
  }
}
