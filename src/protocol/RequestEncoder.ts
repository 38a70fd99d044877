/**
 * The request serializer, sans-IO: validation of what we are asked to send, the request head as
 * Python's `putrequest` / `putheader` / `endheaders` build it, Python's `request()` header logic
 * (automatic `Host`, `Accept-Encoding: identity`, `Content-Length` or chunked framing), and
 * chunked body encoding.
 *
 * Pure and synchronous: no Effect runtime, no I/O. Bad input is returned as an error value
 * (`X | undefined` from validators, `Either` from builders), never thrown. Heads are built as one
 * string and encoded once as Latin-1; every character is checked against the grammar tables
 * before, so nothing above U+00FF reaches the encoder.
 * @since 0.1.0
 */
import { Either } from "effect"
import { InvalidHeader, InvalidMethod, InvalidURL } from "../Http1Error.js"
import { FIELD_VALUE_CHAR, TARGET_CHAR, TCHAR } from "./grammar.js"
import { validateHost } from "./url.js"

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/** Refuses a method that is not an RFC 9110 token (empty, CTL, SP, separators, non-ASCII). */
export const validateMethod = (method: string): InvalidMethod | undefined => {
  if (method.length === 0) return new InvalidMethod({ method })
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i)
    if (c > 0xff || TCHAR[c] === 0) return new InvalidMethod({ method })
  }
  return undefined
}

/**
 * Refuses a request target we would not put on the wire: empty, control characters, SP, DEL,
 * non-ASCII (Python CVE-2019-9740 / CVE-2019-9947). Only visible ASCII passes.
 */
export const validateTarget = (target: string): InvalidURL | undefined => {
  if (target.length === 0) return new InvalidURL({ url: target, reason: "empty request target" })
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i)
    if (c > 0xff || TARGET_CHAR[c] === 0) {
      const what = c > 0x7f ? "non-ASCII characters" : "control characters or whitespace"
      return new InvalidURL({ url: target, reason: `request target can't contain ${what} (found ${JSON.stringify(target[i])} at ${i})` })
    }
  }
  return undefined
}

/** Refuses a field name that is not a token (empty, colon, whitespace, CR, LF, NUL, non-ASCII...). */
export const validateHeaderName = (name: string, side: "request" | "response" = "request"): InvalidHeader | undefined => {
  if (name.length === 0) return new InvalidHeader({ side, header: name, reason: "empty field name" })
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c > 0xff || TCHAR[c] === 0) return new InvalidHeader({ side, header: name, reason: "field name is not an RFC 9110 token" })
  }
  return undefined
}

/**
 * Refuses a field value with CR, LF, NUL or another control character but HTAB, DEL, or a
 * character above U+00FF (header values are Latin-1 on the wire). Obs-text (0x80-0xFF) passes.
 *
 * Stricter than Python's `_is_illegal_header_value`, which lets through an obs-fold (CR LF
 * followed by SP / HTAB) and every other control character: RFC 9112 §5.2 forbids generating
 * obs-fold. Like Python, leading and trailing whitespace is sent as given (receivers trim it).
 */
export const validateHeaderValue = (name: string, value: string, side: "request" | "response" = "request"): InvalidHeader | undefined => {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c > 0xff) return new InvalidHeader({ side, header: name, value, reason: `character above U+00FF at ${i} (field values are Latin-1)` })
    if (FIELD_VALUE_CHAR[c] === 0) return new InvalidHeader({ side, header: name, value, reason: `control character at ${i}` })
  }
  return undefined
}

/** {@link validateHeaderName} then {@link validateHeaderValue}. */
export const validateHeader = (name: string, value: string, side: "request" | "response" = "request"): InvalidHeader | undefined =>
  validateHeaderName(name, side) ?? validateHeaderValue(name, value, side)

// ---------------------------------------------------------------------------------------------
// Host header
// ---------------------------------------------------------------------------------------------

/** Removes an IPv6 zone id (`fe80::1%eth0` → `fe80::1`), as Python's `_strip_ipv6_iface`. */
const stripZone = (host: string): string => {
  const pct = host.indexOf("%")
  return pct < 0 ? host : host.slice(0, pct)
}

/**
 * The `Host` value Python's `putrequest` builds from the connection's host and port: IPv6
 * literals in brackets without their zone id, `:port` only when `port !== defaultPort`. An
 * already-bracketed host is not bracketed twice. Non-ASCII, control characters, whitespace and
 * URL delimiters are refused (no IDNA: give the punycode form).
 */
export const hostHeader = (host: string, port: number, defaultPort: number): string | InvalidURL => {
  let bare = host
  if (bare.length >= 2 && bare.charCodeAt(0) === 0x5b && bare.charCodeAt(bare.length - 1) === 0x5d) bare = bare.slice(1, -1)
  const bad = validateHost(bare, host)
  if (bad !== undefined) return bad
  const h = bare.includes(":") ? "[" + stripZone(bare) + "]" : bare
  return port === defaultPort ? h : h + ":" + port
}

/**
 * For an absolute-form target (`http://host:port/path`, as sent to a proxy), the authority Python
 * puts in `Host` (`urlsplit(url).netloc`); `undefined` when there is none. Differences: userinfo
 * is dropped (Python would send it), and only the IPv6 zone id is removed (Python also drops the port).
 */
const absoluteFormAuthority = (target: string): string | undefined => {
  const lower = target.slice(0, 8).toLowerCase()
  const start = lower.startsWith("http://") ? 7 : lower.startsWith("https://") ? 8 : -1
  if (start < 0) return undefined
  let end = target.length
  for (let i = start; i < target.length; i++) {
    const c = target.charCodeAt(i)
    if (c === 0x2f || c === 0x3f || c === 0x23) {
      end = i
      break
    }
  }
  let authority = target.slice(start, end)
  const at = authority.lastIndexOf("@")
  if (at >= 0) authority = authority.slice(at + 1)
  if (authority.length === 0) return undefined
  const pct = authority.indexOf("%")
  if (pct >= 0 && authority.charCodeAt(0) === 0x5b) {
    const close = authority.indexOf("]", pct)
    authority = authority.slice(0, pct) + (close < 0 ? "]" : authority.slice(close))
  }
  return authority
}

// ---------------------------------------------------------------------------------------------
// Request head builder (putrequest / putheader / endheaders)
// ---------------------------------------------------------------------------------------------

/** Options of {@link putRequest}. */
export interface PutRequestOptions {
  /** Do not add `Host` (Python's `skip_host`). */
  readonly skipHost?: boolean | undefined
  /** Do not add `Accept-Encoding: identity` (Python's `skip_accept_encoding`). */
  readonly skipAcceptEncoding?: boolean | undefined
  /** The connection's host (bare or bracketed IPv6 allowed); needed unless `skipHost` or an absolute-form target. */
  readonly host?: string | undefined
  /** The connection's port; default `defaultPort`. */
  readonly port?: number | undefined
  /** 80 for http, 443 for https; default 80. */
  readonly defaultPort?: number | undefined
  /**
   * How `putHeader(name, v1, v2)` sends several values: `"fold"` (Python: one field, values joined
   * with `"\r\n\t"`, an obs-fold) or `"lines"` (one `name: value` line per value). Default `"fold"`.
   */
  readonly multipleValues?: "fold" | "lines" | undefined
}

/** A header value as `putHeader` / `request` take it: numbers are sent in decimal (Python's ints). */
export type HeaderValue = string | number

const CRLF = "\r\n"
const FOLD = "\r\n\t"

/**
 * Python's request buffer: the request line, then one line per `putHeader`, then `finish()` adds
 * the blank line and encodes the whole head once as Latin-1. Mutable; one per request.
 */
export class RequestHead {
  /** The head so far: request line and field lines, each ending in CRLF. */
  private text: string
  private readonly lines: boolean
  /** The method as given. */
  readonly method: string
  /** The request target as sent. */
  readonly target: string

  private constructor(method: string, target: string, lines: boolean) {
    this.method = method
    this.target = target
    this.lines = lines
    this.text = method + " " + target + " HTTP/1.1\r\n"
  }

  /** @internal unchecked constructor for {@link putRequest} / {@link encodeRequestHead}. */
  static unsafeMake(method: string, target: string, lines: boolean): RequestHead {
    return new RequestHead(method, target, lines)
  }

  /** @internal appends a field line already validated. */
  unsafeAppend(name: string, value: string): void {
    this.text += name + ": " + value + CRLF
  }

  /**
   * Python's `putheader(name, *values)`: validates the name and every value (numbers are written
   * in decimal) and appends the field; on failure nothing is appended. No value gives `name: `.
   */
  putHeader(name: string, ...values: ReadonlyArray<HeaderValue>): Either.Either<void, InvalidHeader> {
    const bad = this.tryPutHeader(name, values)
    return bad === undefined ? Either.void : Either.left(bad)
  }

  /** {@link putHeader} for the hot path: the error or `undefined`, no allocation on success. */
  tryPutHeader(name: string, values: ReadonlyArray<HeaderValue>): InvalidHeader | undefined {
    const badName = validateHeaderName(name)
    if (badName !== undefined) return badName
    if (values.length === 1) {
      const v = values[0]!
      const s = typeof v === "string" ? v : String(v)
      const bad = validateHeaderValue(name, s)
      if (bad !== undefined) return bad
      this.text += name + ": " + s + CRLF
      return undefined
    }
    const strings: Array<string> = []
    for (const v of values) {
      const s = typeof v === "string" ? v : String(v)
      const bad = validateHeaderValue(name, s)
      if (bad !== undefined) return bad
      strings.push(s)
    }
    if (this.lines && strings.length > 1) {
      for (const s of strings) this.text += name + ": " + s + CRLF
    } else {
      this.text += name + ": " + strings.join(FOLD) + CRLF
    }
    return undefined
  }

  /** The head as text, with the final blank line (for debug output). */
  toString(): string {
    return this.text + CRLF
  }

  /** Python's `endheaders` buffer flush: the whole head, ending in CRLF CRLF, as Latin-1 bytes. */
  finish(): Uint8Array {
    return Buffer.from(this.text + CRLF, "latin1")
  }
}

/**
 * Python's `putrequest(method, url, skip_host, skip_accept_encoding)`: validates the method and
 * target and starts a {@link RequestHead} with the request line, then `Host` (unless `skipHost`)
 * and `Accept-Encoding: identity` (unless `skipAcceptEncoding`). An empty target becomes `"/"`
 * as in Python. For an absolute-form target (`http://...`, proxies) `Host` is its authority;
 * otherwise {@link hostHeader} of `host`, `port`, `defaultPort`.
 */
export const putRequest = (
  method: string,
  target: string,
  options: PutRequestOptions = {}
): Either.Either<RequestHead, InvalidMethod | InvalidURL> => {
  const r = startHead(method, target, options)
  return r instanceof RequestHead ? Either.right(r) : Either.left(r)
}

/** {@link putRequest} without the `Either`: the head or the error. */
export const tryPutRequest = (method: string, target: string, options: PutRequestOptions = {}): RequestHead | InvalidMethod | InvalidURL =>
  startHead(method, target, options)

const startHead = (method: string, target: string, options: PutRequestOptions): RequestHead | InvalidMethod | InvalidURL => {
  const t = target === "" ? "/" : target
  const badMethod = validateMethod(method)
  if (badMethod !== undefined) return badMethod
  const badTarget = validateTarget(t)
  if (badTarget !== undefined) return badTarget
  const head = RequestHead.unsafeMake(method, t, options.multipleValues === "lines")
  if (options.skipHost !== true) {
    const host = hostFor(t, options)
    if (typeof host !== "string") return host
    head.unsafeAppend("Host", host)
  }
  if (options.skipAcceptEncoding !== true) head.unsafeAppend("Accept-Encoding", "identity")
  return head
}

const hostFor = (
  target: string,
  options: { readonly host?: string | undefined; readonly port?: number | undefined; readonly defaultPort?: number | undefined }
): string | InvalidURL => {
  const authority = absoluteFormAuthority(target)
  if (authority !== undefined) return authority // target chars already validated: visible ASCII
  if (options.host === undefined) return new InvalidURL({ url: target, reason: "no host for the Host header" })
  const defaultPort = options.defaultPort ?? 80
  return hostHeader(options.host, options.port ?? defaultPort, defaultPort)
}

// ---------------------------------------------------------------------------------------------
// Body framing (request() / _send_request / _get_content_length)
// ---------------------------------------------------------------------------------------------

/** What is known of a request body: absent, bytes of a known length, or a stream of unknown length. */
export type BodyKind =
  | { readonly _tag: "none" }
  | { readonly _tag: "bytes"; readonly length: number }
  | { readonly _tag: "stream" }

/** No body (Python's `body=None`). */
export const noBody: BodyKind = { _tag: "none" }
/** A body of unknown length: iterable, async iterable, Stream. */
export const streamBody: BodyKind = { _tag: "stream" }
/** A body of `length` bytes. */
export const bytesBody = (length: number): BodyKind => ({ _tag: "bytes", length })

/**
 * Python's `_get_content_length` input classification: `undefined`/`null` → none; a string →
 * bytes of its UTF-8 length (the contract: string bodies are UTF-8); a `Uint8Array` / `ArrayBuffer`
 * / other `ArrayBufferView` → bytes of its byte length; anything else (iterables, async iterables,
 * Streams) → stream.
 */
export const bodyKindOf = (body: unknown): BodyKind => {
  if (body === undefined || body === null) return noBody
  if (typeof body === "string") return bytesBody(Buffer.byteLength(body, "utf8"))
  if (body instanceof Uint8Array) return bytesBody(body.byteLength)
  if (ArrayBuffer.isView(body)) return bytesBody(body.byteLength)
  if (body instanceof ArrayBuffer) return bytesBody(body.byteLength)
  return streamBody
}

/** Python's `_METHODS_EXPECTING_BODY`, compared upper-cased. */
const methodExpectsBody = (method: string): boolean => {
  const m = method.length <= 5 ? method.toUpperCase() : ""
  return m === "POST" || m === "PUT" || m === "PATCH"
}

/** Framing decided for a request: fields to add before the caller's, and whether to chunk-encode the body. */
export interface Framing {
  readonly addHeaders: ReadonlyArray<readonly [string, string]>
  readonly chunked: boolean
}

/** Options of {@link chooseFraming}. */
export interface FramingOptions {
  readonly method: string
  readonly body: BodyKind
  /** The caller's fields; only their names matter (case-insensitive). */
  readonly headers?: Iterable<readonly [string, unknown]> | undefined
  /** Python's `encode_chunked`: used only when the caller gave `Transfer-Encoding` itself. */
  readonly encodeChunked?: boolean | undefined
}

const NO_HEADERS: ReadonlyArray<readonly [string, string]> = []
const CL_ZERO: ReadonlyArray<readonly [string, string]> = [["Content-Length", "0"]]
const TE_CHUNKED: ReadonlyArray<readonly [string, string]> = [["Transfer-Encoding", "chunked"]]
const FRAMING_NONE: Framing = { addHeaders: NO_HEADERS, chunked: false }
const FRAMING_CL_ZERO: Framing = { addHeaders: CL_ZERO, chunked: false }
const FRAMING_CHUNKED: Framing = { addHeaders: TE_CHUNKED, chunked: true }
const FRAMING_USER_CHUNKED: Framing = { addHeaders: NO_HEADERS, chunked: true }

const framing = (
  method: string,
  body: BodyKind,
  hasContentLength: boolean,
  hasTransferEncoding: boolean,
  encodeChunked: boolean
): Framing => {
  if (hasContentLength) return FRAMING_NONE
  if (hasTransferEncoding) return encodeChunked ? FRAMING_USER_CHUNKED : FRAMING_NONE
  switch (body._tag) {
    case "none":
      return methodExpectsBody(method) ? FRAMING_CL_ZERO : FRAMING_NONE
    case "bytes":
      return body.length === 0 ? FRAMING_CL_ZERO : { addHeaders: [["Content-Length", String(body.length)]], chunked: false }
    case "stream":
      return FRAMING_CHUNKED
  }
}

/**
 * Python's `_send_request` framing choice. Caller gave `Content-Length`: sent as is, no chunking.
 * Caller gave `Transfer-Encoding` (and no `Content-Length`): nothing added, `chunked` is
 * `encodeChunked` (Python: the caller may be chunking the body itself). Neither: no body →
 * `Content-Length: 0` for POST, PUT, PATCH only; bytes → `Content-Length: <length>` (also 0, for
 * any method); stream → `Transfer-Encoding: chunked` and `chunked: true`.
 *
 * When `chunked` is true the body must end with {@link lastChunk}, even when there is no body
 * (Python sends nothing then, which leaves the server waiting).
 */
export const chooseFraming = (options: FramingOptions): Framing => {
  let cl = false
  let te = false
  if (options.headers !== undefined) {
    for (const [name] of options.headers) {
      const n = name.length
      if (n === 14 && name.toLowerCase() === "content-length") cl = true
      else if (n === 17 && name.toLowerCase() === "transfer-encoding") te = true
    }
  }
  return framing(options.method, options.body, cl, te, options.encodeChunked === true)
}

// ---------------------------------------------------------------------------------------------
// One-shot head (request())
// ---------------------------------------------------------------------------------------------

/** Options of {@link encodeRequestHead}. */
export interface EncodeRequestHeadOptions {
  readonly method: string
  /** Origin-form (`/path?q`), absolute-form (proxies), authority-form (CONNECT) or `*`. */
  readonly target: string
  /** The caller's fields, in order; names as given. */
  readonly headers?: ReadonlyArray<readonly [string, HeaderValue]> | undefined
  /** The connection's host; needed unless the caller gives `Host` or the target is absolute-form. */
  readonly host?: string | undefined
  readonly port?: number | undefined
  /** 80 for http, 443 for https; default 80. */
  readonly defaultPort?: number | undefined
  /** Default: no body. */
  readonly body?: BodyKind | undefined
  /** Python's `encode_chunked`. */
  readonly encodeChunked?: boolean | undefined
  /** Force `skipHost` / `skipAcceptEncoding` even when the caller did not give the field. */
  readonly skipHost?: boolean | undefined
  readonly skipAcceptEncoding?: boolean | undefined
}

/** The encoded head and how the body must be framed. */
export interface EncodedRequestHead {
  /** Request line, fields, blank line: Latin-1 bytes ending in CRLF CRLF. */
  readonly head: Uint8Array
  /** Whether the body must be sent with {@link encodeChunk} and ended with {@link lastChunk}. */
  readonly chunked: boolean
}

/**
 * Python's `request(method, url, body, headers, encode_chunked)` head in one call: the request
 * line; `Host` and `Accept-Encoding: identity` unless the caller gave them (any case); the
 * framing field from {@link chooseFraming}; then the caller's fields in order. Nothing is
 * produced if anything is invalid.
 */
export const encodeRequestHead = (
  options: EncodeRequestHeadOptions
): Either.Either<EncodedRequestHead, InvalidMethod | InvalidURL | InvalidHeader> => {
  const headers = options.headers ?? []
  let hasHost = false
  let hasAE = false
  let hasCL = false
  let hasTE = false
  for (let i = 0; i < headers.length; i++) {
    const name = headers[i]![0]
    switch (name.length) {
      case 4:
        if (!hasHost && name.toLowerCase() === "host") hasHost = true
        break
      case 14:
        if (!hasCL && name.toLowerCase() === "content-length") hasCL = true
        break
      case 15:
        if (!hasAE && name.toLowerCase() === "accept-encoding") hasAE = true
        break
      case 17:
        if (!hasTE && name.toLowerCase() === "transfer-encoding") hasTE = true
        break
    }
  }
  const head = startHead(options.method, options.target, {
    skipHost: hasHost || options.skipHost === true,
    skipAcceptEncoding: hasAE || options.skipAcceptEncoding === true,
    host: options.host,
    port: options.port,
    defaultPort: options.defaultPort
  })
  if (!(head instanceof RequestHead)) return Either.left(head)
  const f = framing(options.method, options.body ?? noBody, hasCL, hasTE, options.encodeChunked === true)
  for (const [n, v] of f.addHeaders) head.unsafeAppend(n, v)
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!
    const name = h[0]
    const raw = h[1]
    const value = typeof raw === "string" ? raw : String(raw)
    const bad = validateHeaderName(name, "request") ?? validateHeaderValue(name, value, "request")
    if (bad !== undefined) return Either.left(bad)
    head.unsafeAppend(name, value)
  }
  return Either.right({ head: head.finish(), chunked: f.chunked })
}

// ---------------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------------

const EMPTY = new Uint8Array(0)

/**
 * One chunk of a chunked body: upper-case hex size (as Python), CRLF, the data, CRLF. Empty data
 * gives empty output: a zero-size chunk would end the body early (Python skips empty chunks too).
 */
export const encodeChunk = (data: Uint8Array): Uint8Array => {
  const n = data.byteLength
  if (n === 0) return EMPTY
  const size = n.toString(16).toUpperCase()
  const out = Buffer.allocUnsafe(size.length + n + 4)
  let o = out.write(size, 0, "latin1")
  out[o++] = 0x0d
  out[o++] = 0x0a
  out.set(data, o)
  o += n
  out[o++] = 0x0d
  out[o] = 0x0a
  return out
}

/** `0 CRLF CRLF`: the end of a chunked body without trailers. */
export const LAST_CHUNK: Uint8Array = Buffer.from("0\r\n\r\n", "latin1")

/** Trailer fields a sender must not generate (RFC 9110 §6.5.1): framing and routing. */
const forbiddenTrailers = new Set(["content-length", "transfer-encoding", "host", "trailer"])

/**
 * The end of a chunked body: `0 CRLF`, the trailer fields, CRLF. Trailers are validated like
 * header fields; `Content-Length`, `Transfer-Encoding`, `Host` and `Trailer` are refused.
 */
export const lastChunk = (
  trailers?: Iterable<readonly [string, HeaderValue]> | undefined
): Either.Either<Uint8Array, InvalidHeader> => {
  if (trailers === undefined) return Either.right(LAST_CHUNK)
  let s = "0\r\n"
  for (const [name, value] of trailers) {
    const v = typeof value === "string" ? value : String(value)
    const bad = validateHeader(name, v)
    if (bad !== undefined) return Either.left(bad)
    if (forbiddenTrailers.has(name.toLowerCase())) {
      return Either.left(new InvalidHeader({ side: "request", header: name, value: v, reason: "field not allowed in trailers" }))
    }
    s += name + ": " + v + CRLF
  }
  return Either.right(s.length === 3 ? LAST_CHUNK : Buffer.from(s + CRLF, "latin1"))
}

/** A body chunk as bytes: strings as UTF-8 (the contract), `Uint8Array` as is. */
export const toBytes = (data: string | Uint8Array): Uint8Array =>
  typeof data === "string" ? Buffer.from(data, "utf8") : data

/** A head string as Latin-1 bytes. Characters above U+00FF must have been refused before. */
export const latin1 = (s: string): Uint8Array => Buffer.from(s, "latin1")
