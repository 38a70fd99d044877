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
import { ContentLengthMismatch, InvalidHeader, InvalidMethod, InvalidRequestFraming, InvalidURL } from "../Http1Error.js"
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
  /** Values of every `Content-Length` field put so far (framing is decided from them at the end). */
  readonly contentLength: Array<string> = []
  /** Values of every `Transfer-Encoding` field put so far. */
  readonly transferEncoding: Array<string> = []

  private constructor(method: string, target: string, lines: boolean) {
    this.method = method
    this.target = target
    this.lines = lines
    this.text = method + " " + target + " HTTP/1.1\r\n"
  }

  /** @internal unchecked constructor for {@link putRequest} / {@link prepareRequest}. */
  static unsafeMake(method: string, target: string, lines: boolean): RequestHead {
    return new RequestHead(method, target, lines)
  }

  /** @internal appends a field line already validated. */
  unsafeAppend(name: string, value: string): void {
    this.note(name, value)
    this.text += name + ": " + value + CRLF
  }

  /** Records the framing fields (by name length first: most fields are neither). */
  private note(name: string, value: string): void {
    const n = name.length
    if (n === 14 && name.toLowerCase() === "content-length") this.contentLength.push(value)
    else if (n === 17 && name.toLowerCase() === "transfer-encoding") this.transferEncoding.push(value)
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
      this.note(name, s)
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
    for (const v of strings) this.note(name, v)
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

  /**
   * `endheaders(body)` with the framing rules enforced: the framing the fields put so far declare
   * (see {@link declaredFraming}), checked against `body`; nothing is added. The head and its
   * framing, or why it must not be sent.
   */
  prepare(body: BodyKind): PreparedRequest | InvalidRequestFraming | ContentLengthMismatch {
    const framing = declaredFraming(this.contentLength, this.transferEncoding, body)
    if (framing._tag === "InvalidRequestFraming" || framing._tag === "ContentLengthMismatch") return framing
    return { method: this.method, target: this.target, head: this.finish(), framing }
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
// Body framing (request() / _send_request / _get_content_length), with smuggling defences
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
 * / other `ArrayBufferView` → bytes of its byte length; an iterable, async iterable or Stream →
 * stream; anything else (a plain object, a number, `FormData`, ...) → `undefined`: not a body.
 */
export const bodyKindOf = (body: unknown): BodyKind | undefined => {
  if (body === undefined || body === null) return noBody
  if (typeof body === "string") return bytesBody(Buffer.byteLength(body, "utf8"))
  if (body instanceof Uint8Array) return bytesBody(body.byteLength)
  if (ArrayBuffer.isView(body)) return bytesBody(body.byteLength)
  if (body instanceof ArrayBuffer) return bytesBody(body.byteLength)
  if (typeof body !== "object") return undefined
  // Iterable, but of entries, not of chunks: a caller who meant form data gets an error, not garbage.
  if (isNamed(body, "FormData") || isNamed(body, "URLSearchParams") || body instanceof Map) return undefined
  if (Array.isArray(body)) return body.every((c) => typeof c === "string" || c instanceof Uint8Array) ? streamBody : undefined
  const b = body as { readonly [Symbol.iterator]?: unknown; readonly [Symbol.asyncIterator]?: unknown }
  if (typeof b[Symbol.iterator] === "function" || typeof b[Symbol.asyncIterator] === "function" || isEffectStream(body)) return streamBody
  return undefined
}

const isNamed = (u: object, global: "FormData" | "URLSearchParams"): boolean => {
  const Ctor = (globalThis as Record<string, unknown>)[global]
  return typeof Ctor === "function" && u instanceof Ctor
}

/** Effect's `Stream` carries this symbol key (checked by name: the protocol core imports no runtime). */
const STREAM_TYPE_ID = Symbol.for("effect/Stream")
const isEffectStream = (u: object): boolean => STREAM_TYPE_ID in u

/** Python's `_METHODS_EXPECTING_BODY`, compared upper-cased. */
const methodExpectsBody = (method: string): boolean => {
  const m = method.length <= 5 ? method.toUpperCase() : ""
  return m === "POST" || m === "PUT" || m === "PATCH"
}

/**
 * How a request body is delimited on the wire: none may follow, exactly `length` bytes, or chunked
 * (the connection core does the chunk framing; a caller's bytes are never framing).
 */
export type RequestFraming =
  | { readonly _tag: "none" }
  | { readonly _tag: "length"; readonly length: number }
  | { readonly _tag: "chunked" }

const FRAMING_NONE: RequestFraming = { _tag: "none" }
const FRAMING_CHUNKED: RequestFraming = { _tag: "chunked" }
const lengthFraming = (length: number): RequestFraming => (length === 0 ? FRAMING_ZERO : { _tag: "length", length })
const FRAMING_ZERO: RequestFraming = { _tag: "length", length: 0 }

/** A request head ready to write, and how its body must be framed. */
export interface PreparedRequest {
  readonly method: string
  readonly target: string
  /** Request line, fields, blank line: Latin-1 bytes ending in CRLF CRLF. */
  readonly head: Uint8Array
  readonly framing: RequestFraming
}

/** A plain-digits Content-Length value (RFC 9110 §8.6), or -1. Bounded by 2^53 - 1. */
const parseLength = (value: string): number => {
  const v = value.trim()
  if (v.length === 0 || v.length > 16) return -1
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return -1
  }
  const n = Number(v)
  return Number.isSafeInteger(n) ? n : -1
}

/**
 * The framing that the caller's `Content-Length` / `Transfer-Encoding` values declare, checked
 * against `body`. The rules (a smuggling defence; RFC 9112 §6.1-6.3 from the sender's side):
 * - `Transfer-Encoding` must be exactly `chunked` (one field, one coding), and never together with
 *   `Content-Length`;
 * - `Content-Length` must be one value of plain digits (repeats must be identical), and equal the
 *   byte length of a known-length body (no body counts as 0);
 * - with neither, a head declares no body, and none may be given.
 */
export const declaredFraming = (
  contentLength: ReadonlyArray<string>,
  transferEncoding: ReadonlyArray<string>,
  body: BodyKind
): RequestFraming | InvalidRequestFraming | ContentLengthMismatch => {
  if (transferEncoding.length > 0) {
    if (contentLength.length > 0) {
      return new InvalidRequestFraming({ reason: "Transfer-Encoding together with Content-Length", header: "Content-Length", value: contentLength.join(", ") })
    }
    const te = transferEncoding.join(", ")
    if (transferEncoding.length !== 1 || te.trim().toLowerCase() !== "chunked") {
      return new InvalidRequestFraming({ reason: "only `Transfer-Encoding: chunked` can be framed", header: "Transfer-Encoding", value: te })
    }
    return FRAMING_CHUNKED
  }
  if (contentLength.length > 0) {
    const n = parseLength(contentLength[0]!)
    for (const v of contentLength) {
      if (parseLength(v) < 0) return new InvalidRequestFraming({ reason: "Content-Length is not one value of plain digits", header: "Content-Length", value: v })
      if (parseLength(v) !== n) {
        return new InvalidRequestFraming({ reason: "conflicting Content-Length values", header: "Content-Length", value: contentLength.join(", ") })
      }
    }
    const known = body._tag === "bytes" ? body.length : body._tag === "none" ? 0 : -1
    if (known >= 0 && known !== n) return new ContentLengthMismatch({ declared: n, actual: known, when: "before-send" })
    return lengthFraming(n)
  }
  if (body._tag === "stream") return new InvalidRequestFraming({ reason: "a body needs Content-Length or Transfer-Encoding: chunked in the head" })
  if (body._tag === "bytes" && body.length > 0) {
    return new InvalidRequestFraming({ reason: "a body needs Content-Length or Transfer-Encoding: chunked in the head" })
  }
  return FRAMING_NONE
}

/** Options of {@link prepareRequest}. */
export interface PrepareRequestOptions {
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
  /** Force `skipHost` / `skipAcceptEncoding` even when the caller did not give the field. */
  readonly skipHost?: boolean | undefined
  readonly skipAcceptEncoding?: boolean | undefined
  /** Extra fields after the caller's (e.g. `Expect: 100-continue`), validated the same way. */
  readonly extraHeaders?: ReadonlyArray<readonly [string, string]> | undefined
}

/** Errors {@link prepareRequest} can return. */
export type PrepareError = InvalidMethod | InvalidURL | InvalidHeader | InvalidRequestFraming | ContentLengthMismatch

/**
 * Python's `request(method, url, body, headers)` head in one call, with the framing rules of
 * {@link declaredFraming} enforced: the request line; `Host` and `Accept-Encoding: identity`
 * unless the caller gave them (any case); the framing field Python would add when the caller gave
 * neither `Content-Length` nor `Transfer-Encoding` (`Content-Length: <n>` for bytes, also `0` for
 * POST/PUT/PATCH without a body; `Transfer-Encoding: chunked` for a stream); then the caller's
 * fields in order. Nothing is produced if anything is invalid.
 */
export const prepareRequest = (options: PrepareRequestOptions): PreparedRequest | PrepareError => {
  const headers = options.headers ?? []
  let hasHost = false
  let hasAE = false
  let hasFraming = false
  for (let i = 0; i < headers.length; i++) {
    const name = headers[i]![0]
    switch (name.length) {
      case 4:
        if (!hasHost && name.toLowerCase() === "host") hasHost = true
        break
      case 14:
        if (!hasFraming && name.toLowerCase() === "content-length") hasFraming = true
        break
      case 15:
        if (!hasAE && name.toLowerCase() === "accept-encoding") hasAE = true
        break
      case 17:
        if (!hasFraming && name.toLowerCase() === "transfer-encoding") hasFraming = true
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
  if (!(head instanceof RequestHead)) return head
  const body = options.body ?? noBody
  if (!hasFraming) {
    switch (body._tag) {
      case "none":
        if (methodExpectsBody(options.method)) head.unsafeAppend("Content-Length", "0")
        break
      case "bytes":
        head.unsafeAppend("Content-Length", String(body.length))
        break
      case "stream":
        head.unsafeAppend("Transfer-Encoding", "chunked")
        break
    }
  }
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!
    const name = h[0]
    const raw = h[1]
    const value = typeof raw === "string" ? raw : String(raw)
    const bad = validateHeaderName(name, "request") ?? validateHeaderValue(name, value, "request")
    if (bad !== undefined) return bad
    head.unsafeAppend(name, value)
  }
  if (options.extraHeaders !== undefined) {
    for (const [name, value] of options.extraHeaders) {
      const bad = validateHeaderName(name, "request") ?? validateHeaderValue(name, value, "request")
      if (bad !== undefined) return bad
      head.unsafeAppend(name, value)
    }
  }
  return head.prepare(body)
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
