import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as E from "../src/Http1Error.js"

const ctx = { method: "GET", host: "example.com", port: 8080 } as const

/**
 * One instance of every class, with the fields a handler needs, and what its message must show.
 * Keyed by tag over the whole union: a tag without a sample fails to compile.
 */
const sampleMap: {
  readonly [K in E.Http1Error["_tag"]]: { readonly error: Extract<E.Http1Error, { readonly _tag: K }>; readonly shows: ReadonlyArray<string> }
} = {
  InvalidURL: { error: new E.InvalidURL({ url: "http://h/a b", reason: "whitespace", ...ctx }), shows: ["http://h/a b", "whitespace", "example.com:8080"] },
  InvalidMethod: { error: new E.InvalidMethod({ ...ctx, method: "G T" }), shows: ["G T", "token", "example.com:8080"] },
  InvalidHeader: {
    error: new E.InvalidHeader({ side: "request", header: "X", value: "a\r\nb", reason: "control character", ...ctx }),
    shows: ["request", "X", "a\\r\\nb", "control character", "example.com:8080", "GET"]
  },
  NotConnected: { error: new E.NotConnected({ reason: "closed", ...ctx }), shows: ["closed", "example.com:8080"] },
  CannotSendRequest: { error: new E.CannotSendRequest({ state: "Request-sent", ...ctx }), shows: ["Request-sent", "example.com:8080"] },
  CannotSendHeader: { error: new E.CannotSendHeader({ state: "Idle", ...ctx }), shows: ["Idle", "example.com:8080"] },
  ResponseNotReady: { error: new E.ResponseNotReady({ state: "Idle", ...ctx }), shows: ["Idle", "example.com:8080"] },
  ConnectError: {
    error: new E.ConnectError({ host: "example.com", port: 8080, cause: new Error("connect ECONNREFUSED"), code: "ECONNREFUSED" }),
    shows: ["example.com:8080", "ECONNREFUSED"]
  },
  TimeoutError: { error: new E.TimeoutError({ phase: "headers", timeoutMs: 5000, ...ctx }), shows: ["5000 ms", "response head", "example.com:8080"] },
  TlsError: {
    error: new E.TlsError({ host: "example.com", port: 8080, reason: "self-signed certificate", code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
    shows: ["example.com:8080", "self-signed certificate", "DEPTH_ZERO_SELF_SIGNED_CERT"]
  },
  ConnectionReset: {
    error: new E.ConnectionReset({ cause: new Error("read ECONNRESET"), code: "ECONNRESET", beforeResponse: true, ...ctx }),
    shows: ["ECONNRESET", "before any response byte", "example.com:8080"]
  },
  RemoteDisconnected: { error: new E.RemoteDisconnected({ ...ctx, reusedConnection: true }), shows: ["without response", "example.com:8080", "reused connection"] },
  BadStatusLine: { error: new E.BadStatusLine({ line: "HTTP/1.1 2OO OK\r\n", ...ctx }), shows: ["2OO OK\\r\\n", "example.com:8080"] },
  UnknownProtocol: { error: new E.UnknownProtocol({ version: "HTTP/2.0", ...ctx }), shows: ["HTTP/2.0", "example.com:8080"] },
  LineTooLong: { error: new E.LineTooLong({ what: "header line", limit: 65536, ...ctx }), shows: ["header line", "65536", "example.com:8080"] },
  TooManyHeaders: { error: new E.TooManyHeaders({ what: "headers", limit: 100, ...ctx }), shows: ["100 headers", "example.com:8080"] },
  TunnelError: {
    error: new E.TunnelError({ status: 407, reason: "Proxy Authentication Required", proxyHost: "proxy", proxyPort: 3128, target: "example.com:443" }),
    shows: ["407", "Proxy Authentication Required", "CONNECT example.com:443", "proxy:3128"]
  },
  PoolExhausted: { error: new E.PoolExhausted({ origin: "http://example.com:8080", maxPending: 1024 }), shows: ["http://example.com:8080", "1024"] },
  TooManyRedirects: { error: new E.TooManyRedirects({ location: "http://example.com/loop", count: 5 }), shows: ["5", "http://example.com/loop"] },
  InvalidContentLength: { error: new E.InvalidContentLength({ value: "+5", reason: "not plain digits", ...ctx }), shows: ["+5", "not plain digits", "example.com:8080"] },
  InvalidChunk: { error: new E.InvalidChunk({ reason: "bad size", seen: "zz\r\n", ...ctx }), shows: ["bad size", "zz\\r\\n", "example.com:8080"] },
  UnknownTransferEncoding: { error: new E.UnknownTransferEncoding({ value: "gzip", ...ctx }), shows: ["gzip", "example.com:8080"] },
  IncompleteRead: { error: new E.IncompleteRead({ partial: new Uint8Array(3), expected: 7, ...ctx }), shows: ["3 bytes read", "7 more expected", "example.com:8080"] },
  RequestBodyError: { error: new E.RequestBodyError({ cause: new Error("source broke"), ...ctx }), shows: ["source broke", "example.com:8080"] },
  DecodeError: { error: new E.DecodeError({ reason: "not JSON", cause: new SyntaxError("x") }), shows: ["decode", "not JSON"] },
  DecompressionError: {
    error: new E.DecompressionError({ encoding: "gzip", reason: "incorrect header check", cause: new Error("x"), ...ctx }),
    shows: ["gzip", "incorrect header check", "example.com:8080"]
  },
  RequestAborted: { error: new E.RequestAborted({ reason: new Error("user left"), ...ctx }), shows: ["aborted", "user left", "example.com:8080"] },
  InvalidRequestFraming: {
    error: new E.InvalidRequestFraming({ reason: "only `Transfer-Encoding: chunked` can be framed", header: "Transfer-Encoding", value: "gzip", ...ctx }),
    shows: ["framing", "Transfer-Encoding", "gzip", "example.com:8080"]
  },
  ContentLengthMismatch: {
    error: new E.ContentLengthMismatch({ declared: 0, actual: 36, when: "before-send", ...ctx }),
    shows: ["36 bytes", "Content-Length 0", "nothing sent", "example.com:8080"]
  },
  InvalidTlsOptions: {
    error: new E.InvalidTlsOptions({ option: "secureProtocol", reason: "use minVersion / maxVersion" }),
    shows: ["secureProtocol", "use minVersion / maxVersion", "TLS option"]
  },
  BodyTooLarge: {
    error: new E.BodyTooLarge({ limit: 1024, received: 2048, what: "maxBodySize", ...ctx }),
    shows: ["1024", "maxBodySize", "2048", "example.com:8080"]
  }
}

const samples: ReadonlyArray<{ readonly error: E.Http1Error; readonly tag: string; readonly shows: ReadonlyArray<string> }> = Object.entries(
  sampleMap
).map(([tag, { error, shows }]) => ({ error, tag, shows }))

/** The error classes `src/Http1Error.ts` exports, as `[export name, _tag]`. */
const exportedClasses = Object.entries(E).flatMap(([name, value]): Array<readonly [string, unknown]> =>
  typeof value === "function" && value.prototype instanceof Error ? [[name, (new (value as new (a: object) => { _tag: unknown })({}))._tag]] : []
)

const protocolTags = ["BadStatusLine", "UnknownProtocol", "LineTooLong", "TooManyHeaders", "InvalidContentLength", "InvalidChunk", "UnknownTransferEncoding", "IncompleteRead"]
const transportTags = ["ConnectError", "TimeoutError", "TlsError", "RemoteDisconnected", "ConnectionReset"]
const improperTags = ["CannotSendRequest", "CannotSendHeader", "ResponseNotReady"]

describe("Http1Error classes", () => {
  it("cover every tag of the union and every exported error class, each once", () => {
    expect(new Set(E.tags).size).toBe(E.tags.length)
    expect(samples.map((s) => s.tag).sort()).toEqual([...E.tags].sort())
    for (const [name, tag] of exportedClasses) expect(tag, name).toBe(name)
    expect(exportedClasses.map(([, tag]) => tag).sort()).toEqual([...E.tags].sort())
    for (const tag of E.tags) expect(E.isHttp1Error({ _tag: tag }), tag).toBe(true)
  })

  for (const { error, tag, shows } of samples) {
    it(`${tag}: _tag, Error, readable message`, () => {
      expect(error._tag).toBe(tag)
      expect(error).toBeInstanceOf(Error)
      expect(typeof error.message).toBe("string")
      for (const s of shows) expect(error.message, `${tag} message ${error.message}`).toContain(s)
      expect(E.isHttp1Error(error)).toBe(true)
      expect(String(error)).toContain(tag)
    })
  }

  it("keeps the fields given", () => {
    const h = new E.InvalidHeader({ side: "response", header: "X", value: "v", reason: "r", reusedConnection: true })
    expect([h.side, h.header, h.value, h.reason, h.reusedConnection]).toEqual(["response", "X", "v", "r", true])
    expect(h.name).toBe("InvalidHeader")
    const t = new E.TimeoutError({ phase: "connect", timeoutMs: 10, bytesReceived: 3 })
    expect([t.phase, t.timeoutMs, t.bytesReceived]).toEqual(["connect", 10, 3])
    const c = new E.ConnectError({ host: "h", port: 1, cause: "boom" })
    expect([c.host, c.port, c.cause, c.code]).toEqual(["h", 1, "boom", undefined])
    expect(c.message).toBe("Cannot connect to h:1: boom")
    const p = new Uint8Array([1, 2])
    const i = new E.IncompleteRead({ partial: p, expected: undefined })
    expect(i.partial).toBe(p)
    expect(i.expected).toBeUndefined()
    expect(i.message).toBe("IncompleteRead(2 bytes read)")
    expect(new E.TunnelError({ status: 403, reason: "Forbidden" }).message).toBe("Tunnel connection failed: 403 Forbidden")
    expect(new E.TunnelError({ status: 403, reason: "Forbidden", proxyHost: "p" }).message).toBe("Tunnel connection failed: 403 Forbidden via p")
    expect(new E.TunnelError({ status: 502, reason: "Bad Gateway", proxyHost: "::1", proxyPort: 3128, target: "h:443" }).message).toBe(
      "Tunnel connection failed: 502 Bad Gateway (CONNECT h:443 via [::1]:3128)"
    )
  })

  it("messages bracket IPv6 hosts and omit the context when there is none", () => {
    expect(new E.RemoteDisconnected({ host: "::1", port: 80 }).message).toContain("[::1]:80")
    expect(new E.ConnectError({ host: "::1", port: 80, cause: "x" }).message).toContain("[::1]:80")
    expect(new E.TlsError({ host: "::1", port: 443, reason: "x" }).message).toContain("[::1]:443")
    expect(new E.RemoteDisconnected({}).message).toBe("Remote end closed connection without response")
    expect(new E.RemoteDisconnected({ host: "h" }).message).toBe("Remote end closed connection without response [h]")
    expect(new E.TimeoutError({ phase: "total", timeoutMs: 1 }).message).toBe("Timed out after 1 ms waiting for the whole exchange")
  })

  it("each TimeoutError phase has its own wording", () => {
    const phases: Array<E.TimeoutPhase> = ["connect", "write", "headers", "body", "total"]
    const messages = phases.map((phase) => new E.TimeoutError({ phase, timeoutMs: 1 }).message)
    expect(new Set(messages).size).toBe(5)
    for (const m of messages) expect(m).not.toContain("undefined")
  })

  it.effect("can be caught by tag", () =>
    Effect.gen(function*() {
      const r = yield* Effect.fail(new E.IncompleteRead({ partial: new Uint8Array([7]), expected: 1 })).pipe(
        Effect.catchTag("IncompleteRead", (e) => Effect.succeed(e.partial))
      )
      expect(Array.from(r)).toEqual([7])
      const exit = yield* Effect.exit(new E.BadStatusLine({ line: "x" }))
      expect(Exit.isFailure(exit)).toBe(true)
    }))
})

describe("what the peer sent, as error messages show it", () => {
  // BadStatusLine's message is `Bad status line: "<shown>"`: the rendering of the bytes seen.
  const shown = (line: string) => /^Bad status line: "(.*)"$/s.exec(new E.BadStatusLine({ line }).message)![1]
  it("escapes CR, LF, TAB, backslash, controls and non-ASCII", () => {
    expect(shown("HTTP/1.1 200 OK\r\n")).toBe("HTTP/1.1 200 OK\\r\\n")
    expect(shown("a\tb")).toBe("a\\tb")
    expect(shown("a\\b")).toBe("a\\\\b")
    expect(shown("\x00\x1b\x7f")).toBe("\\x00\\x1b\\x7f")
    expect(shown("\u00e9")).toBe("\\xe9")
    expect(shown('say "hi"')).toBe('say \\"hi\\"')
  })

  it("distinguishes a CR from a backslash followed by r", () => {
    expect(shown("\r")).not.toBe(shown("\\r"))
  })

  it("bounds what it shows", () => {
    expect(shown("x".repeat(200))).toContain("... (200 bytes)")
  })
})

describe("group guards", () => {
  for (const { error, tag } of samples) {
    it(`${tag}`, () => {
      const protocol = protocolTags.includes(tag) || (tag === "InvalidHeader" && (error as E.InvalidHeader).side === "response")
      expect(E.isProtocolError(error)).toBe(protocol)
      expect(E.isTransportError(error)).toBe(transportTags.includes(tag))
      expect(E.isImproperConnectionState(error)).toBe(improperTags.includes(tag))
      const retryable = tag === "RemoteDisconnected" || tag === "ConnectError" || (tag === "TimeoutError" && ["connect", "headers"].includes((error as E.TimeoutError).phase)) ||
        (tag === "ConnectionReset" && (error as E.ConnectionReset).beforeResponse)
      expect(E.isRetryable(error)).toBe(retryable)
    })
  }

  it("InvalidHeader is a protocol error only from the response side", () => {
    expect(E.isProtocolError(new E.InvalidHeader({ side: "response", header: "X", reason: "r" }))).toBe(true)
    expect(E.isProtocolError(new E.InvalidHeader({ side: "request", header: "X", reason: "r" }))).toBe(false)
  })

  it("isRetryable: TimeoutError by phase, ConnectionReset by beforeResponse", () => {
    const phases: Array<[E.TimeoutPhase, boolean]> = [["connect", true], ["headers", true], ["write", false], ["body", false], ["total", false]]
    for (const [phase, expected] of phases) expect(E.isRetryable(new E.TimeoutError({ phase, timeoutMs: 1 })), phase).toBe(expected)
    expect(E.isRetryable(new E.ConnectionReset({ cause: "x", beforeResponse: true }))).toBe(true)
    expect(E.isRetryable(new E.ConnectionReset({ cause: "x", beforeResponse: false }))).toBe(false)
    expect(E.isRetryable(new E.RemoteDisconnected({ reusedConnection: false }))).toBe(true)
  })

  it("no protocol error is retryable or a transport error", () => {
    for (const { error } of samples) {
      if (E.isProtocolError(error)) {
        expect(E.isRetryable(error)).toBe(false)
        expect(E.isTransportError(error)).toBe(false)
      }
    }
  })

  it("reject what is not one of ours", () => {
    for (const u of [undefined, null, 0, "BadStatusLine", new Error("x"), { _tag: 1 }, { _tag: "Other" }, {}]) {
      expect(E.isHttp1Error(u)).toBe(false)
      expect(E.isProtocolError(u)).toBe(false)
      expect(E.isTransportError(u)).toBe(false)
      expect(E.isImproperConnectionState(u)).toBe(false)
      expect(E.isRetryable(u)).toBe(false)
    }
  })
})
