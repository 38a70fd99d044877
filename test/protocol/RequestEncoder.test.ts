import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as fc from "fast-check"
import { InvalidHeader, InvalidMethod, InvalidURL } from "../../src/Http1Error.js"
import {
  bodyKindOf,
  bytesBody,
  declaredFraming,
  encodeChunk,
  prepareRequest,
  type PrepareRequestOptions,
  hostHeader,
  LAST_CHUNK,
  lastChunk,
  noBody,
  putRequest,
  type PutRequestOptions,
  RequestHead,
  streamBody,
  validateHeader,
  validateHeaderName,
  validateHeaderValue,
  validateMethod,
  validateTarget
} from "../../src/protocol/RequestEncoder.js"

const text = (u: Uint8Array): string => Buffer.from(u).toString("latin1")
const toBytes = (s: string): Uint8Array => Buffer.from(s, "utf8")

const start = (method: string, target: string, options: PutRequestOptions = { host: "example.com" }): RequestHead => {
  const r = putRequest(method, target, options)
  if (Either.isLeft(r)) throw new Error(`unexpected ${r.left._tag}`)
  return r.right
}

type EncodeRequestHeadOptions = PrepareRequestOptions

/** `prepareRequest` as an Either of `{ head, chunked }`, for the table-driven cases below. */
const encodeRequestHead = (options: PrepareRequestOptions) => {
  const r = prepareRequest(options)
  return "head" in r ? Either.right({ head: r.head, chunked: r.framing._tag === "chunked" }) : Either.left(r)
}

const head = (options: EncodeRequestHeadOptions): string => {
  const r = encodeRequestHead(options)
  if (Either.isLeft(r)) throw new Error(`unexpected ${r.left.message}`)
  return text(r.right.head)
}

const headLines = (options: EncodeRequestHeadOptions): Array<string> => head(options).split("\r\n")

const fieldNames = (options: EncodeRequestHeadOptions): Array<string> =>
  headLines(options)
    .slice(1)
    .filter((l) => l.length > 0)
    .map((l) => l.slice(0, l.indexOf(":")).toLowerCase())

const contentLength = (options: EncodeRequestHeadOptions): string | undefined => {
  const line = headLines(options).find((l) => l.toLowerCase().startsWith("content-length:"))
  return line === undefined ? undefined : line.slice(line.indexOf(":") + 1).trim()
}

const left = <R, L>(e: Either.Either<R, L>): L => {
  if (Either.isRight(e)) throw new Error("expected a failure")
  return e.left
}

// ---------------------------------------------------------------------------------------------

describe("validateMethod", () => {
  it("accepts tokens, any case", () => {
    for (const m of ["GET", "POST", "PATCH", "M-SEARCH", "get", "PROPFIND", "X!#$%&'*+-.^_`|~1"]) {
      expect(validateMethod(m)).toBeUndefined()
    }
  })

  it("refuses Python's test_invalid_method_names", () => {
    for (const m of ["GET\r", "POST\n", "PUT\n\r", "POST\nValue", "POST\nHOST:abc", "GET\nrHost:abc\n", "POST\rRemainder:\r", "GET\rHOST:\n", "\nPUT"]) {
      const e = validateMethod(m)
      expect(e).toBeInstanceOf(InvalidMethod)
      expect(e?._tag).toBe("InvalidMethod")
      expect(e?.method).toBe(m)
    }
  })

  it("refuses empty, whitespace, separators, DEL, NUL, non-ASCII", () => {
    for (const m of ["", " ", "GET ", " GET", "G\tET", "GE\x00T", "GET\x7f", "G(ET", "GE/T", "GE:T", "GE;T", "G\"ET", "GÉT", "G\u0100T", "GET\u2028", "G,ET", "G@ET", "G[ET]", "G{ET}", "G=ET", "G?ET", "G\\ET"]) {
      expect(validateMethod(m), JSON.stringify(m)).toBeInstanceOf(InvalidMethod)
    }
  })

  it("refuses every control character", () => {
    for (let c = 0; c < 0x20; c++) expect(validateMethod("GET" + String.fromCharCode(c))).toBeInstanceOf(InvalidMethod)
  })
})

describe("validateTarget", () => {
  it("accepts origin-form, absolute-form, authority-form, asterisk-form", () => {
    for (const t of ["/", "/a/b?c=d&e=%20", "http://example.com/x", "example.com:443", "*", "/~user/!$&'()*+,;=:@[]{}|^`\"<>"]) {
      expect(validateTarget(t)).toBeUndefined()
    }
  })

  it("refuses an empty target", () => {
    expect(validateTarget("")).toBeInstanceOf(InvalidURL)
  })

  it("refuses control characters, SP and DEL (CVE-2019-9740/9947)", () => {
    for (let c = 0; c <= 0x20; c++) {
      const e = validateTarget(`/a${String.fromCharCode(c)}b`)
      expect(e, `char ${c}`).toBeInstanceOf(InvalidURL)
      expect(e?.message).toContain("control characters or whitespace")
    }
    expect(validateTarget("/a\x7fb")).toBeInstanceOf(InvalidURL)
    expect(validateTarget("/?q=1 HTTP/1.1\r\nX-injected: header\r\nx:")).toBeInstanceOf(InvalidURL)
    expect(validateTarget("/\r\n")).toBeInstanceOf(InvalidURL)
  })

  it("refuses non-ASCII (Latin-1 and beyond)", () => {
    for (const t of ["/caf\u00e9", "/\u0080", "/\u00ff", "/\u0100", "/\u{1f600}", "/\u2028"]) {
      const e = validateTarget(t)
      expect(e).toBeInstanceOf(InvalidURL)
    }
    expect(validateTarget("/caf\u00e9")?.message).toContain("non-ASCII")
  })
})

describe("validateHeader", () => {
  it("accepts tokens and field values (HTAB, SP, obs-text)", () => {
    expect(validateHeader("Content-Type", "text/plain; charset=utf-8")).toBeUndefined()
    expect(validateHeader("X-Tab", "a\tb")).toBeUndefined()
    expect(validateHeader("X-Latin", "\u00ff\u0085\u00a0")).toBeUndefined()
    expect(validateHeader("X-Empty", "")).toBeUndefined()
    expect(validateHeader("Foo", " bar ")).toBeUndefined()
    expect(validateHeader("!#$%&'*+-.^_`|~", "v")).toBeUndefined()
  })

  it("refuses Python's test_invalid_headers cases", () => {
    const cases: Array<[string, string]> = [
      ["Invalid\r\nName", "ValidValue"],
      ["Invalid\rName", "ValidValue"],
      ["Invalid\nName", "ValidValue"],
      ["\r\nInvalidName", "ValidValue"],
      ["\rInvalidName", "ValidValue"],
      ["\nInvalidName", "ValidValue"],
      [" InvalidName", "ValidValue"],
      ["\tInvalidName", "ValidValue"],
      ["Invalid:Name", "ValidValue"],
      [":InvalidName", "ValidValue"],
      ["ValidName", "Invalid\r\nValue"],
      ["ValidName", "Invalid\rValue"],
      ["ValidName", "Invalid\nValue"],
      ["ValidName", "InvalidValue\r\n"],
      ["ValidName", "InvalidValue\r"],
      ["ValidName", "InvalidValue\n"]
    ]
    for (const [n, v] of cases) {
      const e = validateHeader(n, v)
      expect(e, JSON.stringify([n, v])).toBeInstanceOf(InvalidHeader)
      expect(e?.side).toBe("request")
      expect(e?.header).toBe(n)
    }
  })

  it("refuses names Python lets through: spaces, non-ASCII, empty", () => {
    for (const n of ["", "Key Space", "KeySpace ", "Nonbreak\u00a0Space", "\u00a0NonbreakSpace", "X\x00", "X\x7f", "Caf\u00e9", "X\u0100", "(X)", "X/Y", "X=Y", "X,Y", "X;Y", "X\"Y", "X@Y", "X?Y", "X{Y}", "X[Y]", "X\\Y"]) {
      expect(validateHeaderName(n), JSON.stringify(n)).toBeInstanceOf(InvalidHeader)
    }
    expect(validateHeaderName("")?.reason).toContain("empty")
  })

  it("refuses every control character but HTAB in values, and DEL", () => {
    for (let c = 0; c < 0x20; c++) {
      const e = validateHeaderValue("X", `a${String.fromCharCode(c)}b`)
      if (c === 0x09) expect(e).toBeUndefined()
      else expect(e, `char ${c}`).toBeInstanceOf(InvalidHeader)
    }
    expect(validateHeaderValue("X", "a\x7fb")).toBeInstanceOf(InvalidHeader)
  })

  it("refuses obs-fold, which Python allows (RFC 9112 §5.2: must not generate)", () => {
    expect(validateHeader("Embedded-Fold-Space", "is\r\n allowed")).toBeInstanceOf(InvalidHeader)
    expect(validateHeader("Embedded-Fold-Tab", "is\r\n\tallowed")).toBeInstanceOf(InvalidHeader)
  })

  it("refuses characters above U+00FF (values are Latin-1)", () => {
    for (const v of ["\u0100", "caf\u00e9 \u20ac", "\u{1f600}", "\u2028"]) {
      const e = validateHeaderValue("X", v)
      expect(e).toBeInstanceOf(InvalidHeader)
      expect(e?.value).toBe(v)
      expect(e?.reason).toContain("U+00FF")
    }
  })

  it("validateHeader can label response-side failures", () => {
    expect(validateHeader("Bad Name", "v", "response")?.side).toBe("response")
  })
})

describe("hostHeader", () => {
  it("omits the default port and keeps another one", () => {
    expect(hostHeader("example.com", 80, 80)).toBe("example.com")
    expect(hostHeader("example.com", 8080, 80)).toBe("example.com:8080")
    expect(hostHeader("example.com", 443, 443)).toBe("example.com")
    expect(hostHeader("example.com", 80, 443)).toBe("example.com:80")
    expect(hostHeader("127.0.0.1", 0, 80)).toBe("127.0.0.1:0")
  })

  it("brackets IPv6 literals (Python test_ipv6host_header)", () => {
    expect(hostHeader("2001::", 81, 80)).toBe("[2001::]:81")
    expect(hostHeader("2001:102A::", 80, 80)).toBe("[2001:102A::]")
    expect(hostHeader("::1", 8443, 443)).toBe("[::1]:8443")
  })

  it("strips IPv6 zone ids", () => {
    expect(hostHeader("fe80::%2", 80, 80)).toBe("[fe80::]")
    expect(hostHeader("fe80::%2", 81, 80)).toBe("[fe80::]:81")
    expect(hostHeader("fe80::1%eth0", 80, 80)).toBe("[fe80::1]")
  })

  it("does not bracket an already-bracketed host twice", () => {
    expect(hostHeader("[::1]", 80, 80)).toBe("[::1]")
    expect(hostHeader("[::1]", 81, 80)).toBe("[::1]:81")
    expect(hostHeader("[fe80::%2]", 81, 80)).toBe("[fe80::]:81")
  })

  it("refuses non-ASCII, control characters, whitespace, delimiters, empty", () => {
    for (const h of ["b\u00fccher.de", "\u4f8b\u3048.jp", "a\r\nb", "a b", "a\tb", "a\x00", "a\x7f", "", "[]", "a/b", "a?b", "a#b", "user@host", "a\\b", "[a"]) {
      const e = hostHeader(h, 80, 80)
      expect(e, JSON.stringify(h)).toBeInstanceOf(InvalidURL)
    }
  })
})

describe("putRequest / putHeader / finish", () => {
  it("writes the request line, Host and Accept-Encoding: identity", () => {
    const h = start("GET", "/foo", { host: "example.com" })
    expect(text(h.finish())).toBe("GET /foo HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\n\r\n")
    expect(h.method).toBe("GET")
    expect(h.target).toBe("/foo")
  })

  it("honours skipHost and skipAcceptEncoding", () => {
    expect(text(start("GET", "/", { host: "h", skipHost: true }).finish())).toBe("GET / HTTP/1.1\r\nAccept-Encoding: identity\r\n\r\n")
    expect(text(start("GET", "/", { host: "h", skipAcceptEncoding: true }).finish())).toBe("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    expect(text(start("GET", "/", { skipHost: true, skipAcceptEncoding: true }).finish())).toBe("GET / HTTP/1.1\r\n\r\n")
  })

  it("Host for IPv6 and ports (Python test_ipv6host_header)", () => {
    const line = (o: PutRequestOptions) => text(start("GET", "/foo", o).finish()).split("\r\n")[1]
    expect(line({ host: "2001::", port: 81 })).toBe("Host: [2001::]:81")
    expect(line({ host: "2001:102A::" })).toBe("Host: [2001:102A::]")
    expect(line({ host: "fe80::%2" })).toBe("Host: [fe80::]")
    expect(line({ host: "fe80::%2", port: 81 })).toBe("Host: [fe80::]:81")
    expect(line({ host: "example.com", port: 443, defaultPort: 443 })).toBe("Host: example.com")
    expect(line({ host: "example.com", port: 8443, defaultPort: 443 })).toBe("Host: example.com:8443")
    expect(line({ host: "example.com", port: 80, defaultPort: 443 })).toBe("Host: example.com:80")
  })

  it("takes Host from an absolute-form target (proxy requests)", () => {
    const line = (t: string) => text(start("GET", t, { host: "proxy", port: 3128 }).finish()).split("\r\n")[1]
    expect(line("http://example.com/x")).toBe("Host: example.com")
    expect(line("http://example.com:8080/x?y")).toBe("Host: example.com:8080")
    expect(line("https://example.com")).toBe("Host: example.com")
    expect(line("HTTP://Example.com/")).toBe("Host: Example.com")
    expect(line("http://user:pw@example.com/")).toBe("Host: example.com")
    expect(line("http://[fe80::1%25eth0]:81/")).toBe("Host: [fe80::1]:81")
    expect(line("http:///x")).toBe("Host: proxy:3128")
  })

  it("turns an empty target into / as Python does", () => {
    expect(text(start("GET", "").finish()).startsWith("GET / HTTP/1.1\r\n")).toBe(true)
  })

  it("refuses a bad method, target or host before writing anything", () => {
    expect(left(putRequest("GET\r\nX: y", "/", { host: "h" }))._tag).toBe("InvalidMethod")
    expect(left(putRequest("GET", "/ HTTP/1.1\r\nX: y", { host: "h" }))._tag).toBe("InvalidURL")
    expect(left(putRequest("GET", "/", { host: "h\r\nX: y" }))._tag).toBe("InvalidURL")
    expect(left(putRequest("GET", "/", { host: "b\u00fccher.de" }))._tag).toBe("InvalidURL")
    expect(left(putRequest("GET", "/", {}))._tag).toBe("InvalidURL")
    expect(Either.isRight(putRequest("GET", "/", { skipHost: true }))).toBe(true)
  })


  it("putHeader as Python's test_putheader (where we agree)", () => {
    const h = start("GET", "/")
    expect(Either.isRight(h.putHeader("Content-length", 42))).toBe(true)
    h.putHeader("Foo", " bar ")
    h.putHeader("Bar", "\tbaz\t")
    h.putHeader("Authorization", "Bearer mytoken")
    h.putHeader("IterHeader", "IterA", "IterB")
    h.putHeader("LatinHeader", "\u00ff")
    h.putHeader("Utf8Header", "\u00c3\u0080")
    h.putHeader("C1-Control", "next\u0085line")
    const s = h.toString()
    expect(s).toContain("Content-length: 42\r\n")
    expect(s).toContain("Foo:  bar \r\n")
    expect(s).toContain("Bar: \tbaz\t\r\n")
    expect(s).toContain("Authorization: Bearer mytoken\r\n")
    expect(s).toContain("IterHeader: IterA\r\n\tIterB\r\n")
    const bytes = h.finish()
    expect(Buffer.from(bytes).includes(Buffer.from([...Buffer.from("LatinHeader: "), 0xff]))).toBe(true)
    expect(Buffer.from(bytes).includes(Buffer.from([...Buffer.from("Utf8Header: "), 0xc3, 0x80]))).toBe(true)
    expect(Buffer.from(bytes).includes(Buffer.from([...Buffer.from("C1-Control: next"), 0x85, ...Buffer.from("line")]))).toBe(true)
  })

  it("putHeader with several values as separate lines when asked", () => {
    const h = start("GET", "/", { host: "h", multipleValues: "lines" })
    h.putHeader("Accept", "a", "b", 3)
    expect(h.toString()).toContain("Accept: a\r\nAccept: b\r\nAccept: 3\r\n")
  })

  it("putHeader with int-like and no values", () => {
    const h = start("GET", "/", { host: "h", skipAcceptEncoding: true })
    h.putHeader("X-Int", 0)
    h.putHeader("X-Neg", -1)
    h.putHeader("X-Float", 1.5)
    h.putHeader("X-None")
    expect(h.toString()).toBe("GET / HTTP/1.1\r\nHost: h\r\nX-Int: 0\r\nX-Neg: -1\r\nX-Float: 1.5\r\nX-None: \r\n\r\n")
  })

  it("putHeader refuses bad fields and appends nothing", () => {
    const h = start("GET", "/", { host: "h" })
    const before = h.toString()
    for (const [n, vs] of [
      ["Bad Name", ["v"]],
      ["X", ["ok", "bad\r\nInjected: 1"]],
      ["X", ["is\r\n allowed"]],
      ["X", ["\u20ac"]],
      ["", ["v"]]
    ] as Array<[string, Array<string>]>) {
      const e = left(h.putHeader(n, ...vs))
      expect(e._tag).toBe("InvalidHeader")
      expect(e.side).toBe("request")
    }
    expect(h.tryPutHeader("X:Y", ["v"])).toBeInstanceOf(InvalidHeader)
    expect(h.toString()).toBe(before)
  })

  it("finish encodes Latin-1 and ends in CRLF CRLF", () => {
    const h = start("POST", "/", { host: "h" })
    h.putHeader("X", "\u00e9")
    const b = h.finish()
    expect(b).toBeInstanceOf(Uint8Array)
    expect(b[b.length - 4]).toBe(0x0d)
    expect(text(b.subarray(b.length - 4))).toBe("\r\n\r\n")
    expect(Array.from(b)).toContain(0xe9)
    expect(b.length).toBe(h.toString().length)
  })
})

describe("encodeRequestHead (Python request() header logic)", () => {
  it("adds Host and Accept-Encoding first, then the caller's fields in order", () => {
    expect(head({ method: "GET", target: "/", host: "example.com", headers: [["X-B", "2"], ["x-a", "1"]] })).toBe(
      "GET / HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\nX-B: 2\r\nx-a: 1\r\n\r\n"
    )
  })

  it("does not add Host / Accept-Encoding / Content-Length when given, in any case (test_auto_headers)", () => {
    for (const explicit of [true, false]) {
      for (const header of ["Content-length", "Host", "Accept-encoding", "HOST", "content-LENGTH", "ACCEPT-ENCODING"]) {
        const body = "spamspamspam"
        const headers: Array<[string, string]> = explicit ? [[header, String(body.length)]] : []
        const names = fieldNames({ method: "POST", target: "/", host: "example.com", headers, body: bodyKindOf(body) })
        expect(names.filter((n) => n === header.toLowerCase()).length, `${header} ${explicit}`).toBe(1)
      }
    }
  })

  it("keeps a caller's Host verbatim", () => {
    expect(headLines({ method: "GET", target: "/", host: "h", headers: [["host", "other:1"]] })).toEqual([
      "GET / HTTP/1.1",
      "Accept-Encoding: identity",
      "host: other:1",
      "",
      ""
    ])
  })

  it("Content-Length: 0 for POST/PUT/PATCH without a body, any case (test_content_length_0)", () => {
    for (const method of ["PUT", "POST", "PATCH", "post", "Patch"]) {
      for (const body of [noBody, bodyKindOf(""), bodyKindOf(undefined), bodyKindOf(null)]) {
        expect(contentLength({ method, target: "/", host: "h", body })).toBe("0")
      }
    }
    for (const method of ["PUT", "POST", "PATCH"]) expect(contentLength({ method, target: "/", host: "h" })).toBe("0")
  })

  it("no Content-Length for other methods without a body, Content-Length: 0 for an empty one", () => {
    for (const method of ["GET", "CONNECT", "DELETE", "HEAD", "OPTIONS", "TRACE", "POSTX"]) {
      expect(contentLength({ method, target: "/", host: "h", body: noBody })).toBeUndefined()
      expect(contentLength({ method, target: "/", host: "h", body: bodyKindOf("") })).toBe("0")
      expect(contentLength({ method, target: "/", host: "h", body: bodyKindOf(new Uint8Array(0)) })).toBe("0")
      expect(contentLength({ method, target: "/", host: "h", body: bodyKindOf(" ") })).toBe("1")
    }
  })

  it("Content-Length counts bytes: UTF-8 strings, byte arrays, views", () => {
    expect(contentLength({ method: "POST", target: "/", host: "h", body: bodyKindOf("\u00e9\u20ac\u{1f600}") })).toBe(String(2 + 3 + 4))
    expect(contentLength({ method: "POST", target: "/", host: "h", body: bodyKindOf(new Uint8Array(1234)) })).toBe("1234")
    expect(contentLength({ method: "POST", target: "/", host: "h", body: bodyKindOf(new Uint16Array(3)) })).toBe("6")
    expect(contentLength({ method: "POST", target: "/", host: "h", body: bodyKindOf(new ArrayBuffer(7)) })).toBe("7")
    expect(contentLength({ method: "GET", target: "/", host: "h", body: bytesBody(5) })).toBe("5")
  })

  it("chunks a stream body of unknown length, without Content-Length (TransferEncodingTest.test_request)", () => {
    const r = encodeRequestHead({ method: "POST", target: "/", host: "h", body: streamBody })
    expect(Either.isRight(r) && r.right.chunked).toBe(true)
    const names = fieldNames({ method: "POST", target: "/", host: "h", body: streamBody })
    expect(names).toContain("transfer-encoding")
    expect(names).not.toContain("content-length")
    expect(head({ method: "POST", target: "/", host: "h", body: streamBody })).toContain("Transfer-Encoding: chunked\r\n")
    // also for a method that does not expect a body, and for an empty iterable (test_empty_body)
    expect(head({ method: "GET", target: "/", host: "h", body: bodyKindOf([]) })).toContain("Transfer-Encoding: chunked\r\n")
  })

  it("a caller's Transfer-Encoding: chunked is framed by us, whatever encodeChunked says (smuggling defence)", () => {
    for (const body of [streamBody, bodyKindOf("It's just a flesh wound")!, noBody]) {
      const r = encodeRequestHead({ method: "POST", target: "/", host: "h", body, headers: [["Transfer-Encoding", "chunked"]] })
      expect(Either.isRight(r) && r.right.chunked).toBe(true)
      const names = fieldNames({ method: "POST", target: "/", host: "h", body, headers: [["Transfer-Encoding", "chunked"]] })
      expect(names.filter((n) => n === "transfer-encoding")).toHaveLength(1)
      expect(names).not.toContain("content-length")
    }
  })

  it("a caller's Transfer-Encoding other than exactly chunked, or with Content-Length, is refused", () => {
    for (const te of [["gzip, chunked"], ["chunked, chunked"], ["identity"], [""], ["chunked", "chunked"]]) {
      const r = prepareRequest({ method: "POST", target: "/", host: "h", body: streamBody, headers: te.map((v) => ["Transfer-Encoding", v] as const) })
      expect(r).toMatchObject({ _tag: "InvalidRequestFraming", header: "Transfer-Encoding" })
    }
    const both = prepareRequest({ method: "POST", target: "/", host: "h", body: bytesBody(5), headers: [["Transfer-Encoding", "chunked"], ["Content-Length", "5"]] })
    expect(both).toMatchObject({ _tag: "InvalidRequestFraming", reason: "Transfer-Encoding together with Content-Length" })
  })

  it("a caller's Content-Length must equal a known-length body (no body counts as 0)", () => {
    expect(prepareRequest({ method: "POST", target: "/", host: "h", body: bytesBody(36), headers: [["Content-Length", "0"]] })).toMatchObject({
      _tag: "ContentLengthMismatch",
      declared: 0,
      actual: 36,
      when: "before-send"
    })
    expect(prepareRequest({ method: "POST", target: "/", host: "h", body: noBody, headers: [["Content-Length", "3"]] })).toMatchObject({
      _tag: "ContentLengthMismatch"
    })
    for (const v of ["-1", "+3", "3 3", "0x3", "", "3.0", "99999999999999999999"]) {
      expect(prepareRequest({ method: "POST", target: "/", host: "h", body: streamBody, headers: [["Content-Length", v]] })).toMatchObject({
        _tag: "InvalidRequestFraming"
      })
    }
    expect(prepareRequest({ method: "POST", target: "/", host: "h", body: bytesBody(3), headers: [["Content-Length", "3"], ["content-length", "4"]] })).toMatchObject({
      _tag: "InvalidRequestFraming",
      reason: "conflicting Content-Length values"
    })
    // A stream of unknown length with a Content-Length: counted as it is sent.
    const ok = prepareRequest({ method: "POST", target: "/", host: "h", body: streamBody, headers: [["Content-Length", "5"]] })
    expect("head" in ok && ok.framing).toEqual({ _tag: "length", length: 5 })
  })

  it("encodeChunked is ignored when the caller gave Content-Length or neither field", () => {
    const withCl = encodeRequestHead({ method: "POST", target: "/", host: "h", body: streamBody, headers: [["Content-Length", 5]] })
    expect(Either.isRight(withCl) && withCl.right.chunked).toBe(false)
    expect(Either.isRight(withCl) && text(withCl.right.head)).not.toContain("Transfer-Encoding")
    const bytes = encodeRequestHead({ method: "POST", target: "/", host: "h", body: bytesBody(3) })
    expect(Either.isRight(bytes) && bytes.right.chunked).toBe(false)
  })

  it("int-like header values", () => {
    expect(head({ method: "POST", target: "/", host: "h", headers: [["Content-Length", 42]], body: bytesBody(42) })).toContain("Content-Length: 42\r\n")
    expect(head({ method: "GET", target: "/", host: "h", headers: [["X-Count", 0]] })).toContain("X-Count: 0\r\n")
  })

  it("framing fields come before the caller's fields (as Python)", () => {
    expect(headLines({ method: "POST", target: "/", host: "h", headers: [["X", "1"]], body: bytesBody(3) })).toEqual([
      "POST / HTTP/1.1",
      "Host: h",
      "Accept-Encoding: identity",
      "Content-Length: 3",
      "X: 1",
      "",
      ""
    ])
  })

  it("skipHost / skipAcceptEncoding options", () => {
    expect(head({ method: "GET", target: "/", skipHost: true, skipAcceptEncoding: true })).toBe("GET / HTTP/1.1\r\n\r\n")
  })

  it("refuses bad input with the right error and produces nothing", () => {
    expect(left(encodeRequestHead({ method: "G T", target: "/", host: "h" }))._tag).toBe("InvalidMethod")
    expect(left(encodeRequestHead({ method: "GET", target: "/a b", host: "h" }))._tag).toBe("InvalidURL")
    expect(left(encodeRequestHead({ method: "GET", target: "/", host: "h h" }))._tag).toBe("InvalidURL")
    const e = left(encodeRequestHead({ method: "GET", target: "/", host: "h", headers: [["X", "ok"], ["Y", "a\r\nInjected: 1"]] }))
    expect(e._tag).toBe("InvalidHeader")
    expect((e as InvalidHeader).header).toBe("Y")
    expect(left(encodeRequestHead({ method: "GET", target: "/", host: "h", headers: [["X", "\u0100"]] }))._tag).toBe("InvalidHeader")
    expect(left(encodeRequestHead({ method: "GET", target: "/", host: "h", headers: [["X Y", "v"]] }))._tag).toBe("InvalidHeader")
  })

  it("property: valid input encodes to exactly method SP target SP HTTP/1.1 CRLF (name: value CRLF)* CRLF", () => {
    const tchars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    const token = fc.string({ unit: fc.constantFrom(...tchars), minLength: 1, maxLength: 12 })
    const targetChar = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c))
    const target = fc.string({ unit: targetChar, minLength: 1, maxLength: 40 })
    const valueChar = fc.oneof(
      fc.constant("\t"),
      fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c))
    )
    const value = fc.string({ unit: valueChar, maxLength: 30 })
    const headers = fc.array(fc.tuple(token, value), { maxLength: 10 })
    fc.assert(
      fc.property(token, target, headers, (method, target, headers) => {
        const r = encodeRequestHead({ method, target, headers, skipHost: true, skipAcceptEncoding: true, body: bytesBody(0) })
        expect(Either.isRight(r)).toBe(true)
        if (Either.isLeft(r)) return
        const hasCl = headers.some(([n]) => n.toLowerCase() === "content-length")
        const hasTe = headers.some(([n]) => n.toLowerCase() === "transfer-encoding")
        const framing = hasCl || hasTe ? "" : "Content-Length: 0\r\n"
        const expected = `${method} ${target} HTTP/1.1\r\n${framing}${headers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`
        expect(Buffer.from(r.right.head).equals(Buffer.from(expected, "latin1"))).toBe(true)
        expect(text(r.right.head)).toBe(expected)
      }),
      { numRuns: 500 }
    )
  })

  it("property: any invalid character in method, target, name or value is refused", () => {
    const bad = fc.oneof(
      fc.integer({ min: 0, max: 0x1f }).filter((c) => c !== 0x09),
      fc.constant(0x7f),
      fc.integer({ min: 0x100, max: 0xffff }).filter((c) => c < 0xd800 || c > 0xdfff)
    ).map((c) => String.fromCharCode(c))
    const pos = fc.nat({ max: 5 })
    const insert = (s: string, i: number, c: string) => s.slice(0, i) + c + s.slice(i)
    fc.assert(
      fc.property(bad, pos, fc.constantFrom("method", "target", "name", "value"), (c, i, where) => {
        const o: EncodeRequestHeadOptions = {
          method: where === "method" ? insert("GET", i % 4, c) : "GET",
          target: where === "target" ? insert("/path", i, c) : "/path",
          host: "h",
          headers: [[where === "name" ? insert("X-Name", i, c) : "X-Name", where === "value" ? insert("value", i, c) : "value"]]
        }
        const r = encodeRequestHead(o)
        expect(Either.isLeft(r)).toBe(true)
        const tag = Either.isLeft(r) ? r.left._tag : ""
        expect(tag).toBe(where === "method" ? "InvalidMethod" : where === "target" ? "InvalidURL" : "InvalidHeader")
      }),
      { numRuns: 500 }
    )
  })
})

describe("declaredFraming", () => {
  it("what the caller's framing fields declare, checked against the body", () => {
    expect(declaredFraming([], [], noBody)).toEqual({ _tag: "none" })
    expect(declaredFraming([], [], bytesBody(0))).toEqual({ _tag: "none" })
    expect(declaredFraming(["10"], [], bytesBody(10))).toEqual({ _tag: "length", length: 10 })
    expect(declaredFraming([" 10 "], [], streamBody)).toEqual({ _tag: "length", length: 10 })
    expect(declaredFraming(["10", "10"], [], bytesBody(10))).toEqual({ _tag: "length", length: 10 })
    expect(declaredFraming([], ["Chunked"], streamBody)).toEqual({ _tag: "chunked" })
    expect(declaredFraming([], [], streamBody)).toMatchObject({ _tag: "InvalidRequestFraming" })
    expect(declaredFraming([], [], bytesBody(3))).toMatchObject({ _tag: "InvalidRequestFraming" })
    expect(declaredFraming(["3"], ["chunked"], bytesBody(3))).toMatchObject({ _tag: "InvalidRequestFraming" })
    expect(declaredFraming(["4"], [], bytesBody(3))).toMatchObject({ _tag: "ContentLengthMismatch", declared: 4, actual: 3 })
  })

  it("bodyKindOf classifies bodies", () => {
    expect(bodyKindOf(undefined)).toEqual(noBody)
    expect(bodyKindOf("abc")).toEqual(bytesBody(3))
    expect(bodyKindOf("\u00e9")).toEqual(bytesBody(2))
    expect(bodyKindOf(Buffer.from("abcd"))).toEqual(bytesBody(4))
    expect(bodyKindOf(new DataView(new ArrayBuffer(9)))).toEqual(bytesBody(9))
    expect(bodyKindOf([new Uint8Array(1)])).toEqual(streamBody)
    expect(bodyKindOf((async function* () {})())).toEqual(streamBody)
    // Not a body: a plain-JS caller's FormData, object or number is refused by the request paths.
    expect(bodyKindOf({ a: 1 })).toBeUndefined()
    expect(bodyKindOf(42)).toBeUndefined()
    expect(bodyKindOf(new FormData())).toBeUndefined()
  })
})

describe("chunked bodies", () => {
  it("encodeChunk: upper-case hex size CRLF data CRLF", () => {
    expect(text(encodeChunk(toBytes("hello")))).toBe("5\r\nhello\r\n")
    expect(text(encodeChunk(new Uint8Array(26).fill(0x61)))).toBe(`1A\r\n${"a".repeat(26)}\r\n`)
    const big = new Uint8Array(0x10000).fill(1)
    const enc = encodeChunk(big)
    expect(text(enc.subarray(0, 7))).toBe("10000\r\n")
    expect(enc.length).toBe(7 + 0x10000 + 2)
    expect(text(enc.subarray(enc.length - 2))).toBe("\r\n")
  })

  it("encodeChunk of empty data is empty, never a premature last-chunk", () => {
    expect(encodeChunk(new Uint8Array(0)).length).toBe(0)
    expect(encodeChunk(toBytes("")).length).toBe(0)
  })

  it("encodeChunk copies the data and leaves the input alone", () => {
    const data = toBytes("abc")
    const enc = encodeChunk(data.subarray(1))
    expect(text(enc)).toBe("2\r\nbc\r\n")
    expect(text(data)).toBe("abc")
  })

  it("a chunked body round-trips (TransferEncodingTest with empty pieces)", () => {
    const pieces = ["It's ", "", "just ", "", "a ", "flesh ", "", "wound"].map(toBytes)
    const wire = Buffer.concat([...pieces.map(encodeChunk), LAST_CHUNK]).toString("latin1")
    let rest = wire
    let body = ""
    for (;;) {
      const eol = rest.indexOf("\r\n")
      const size = parseInt(rest.slice(0, eol), 16)
      rest = rest.slice(eol + 2)
      if (size === 0) break
      body += rest.slice(0, size)
      expect(rest.slice(size, size + 2)).toBe("\r\n")
      rest = rest.slice(size + 2)
    }
    expect(body).toBe("It's just a flesh wound")
    expect(rest).toBe("\r\n")
  })

  it("lastChunk without and with trailers", () => {
    expect(text(LAST_CHUNK)).toBe("0\r\n\r\n")
    const plain = lastChunk()
    expect(Either.isRight(plain) && text(plain.right)).toBe("0\r\n\r\n")
    const none = lastChunk([])
    expect(Either.isRight(none) && text(none.right)).toBe("0\r\n\r\n")
    const t = lastChunk([["X-Checksum", "abc"], ["X-Count", 3], ["X-Latin", "\u00e9"]])
    expect(Either.isRight(t) && text(t.right)).toBe("0\r\nX-Checksum: abc\r\nX-Count: 3\r\nX-Latin: \u00e9\r\n\r\n")
  })

  it("lastChunk refuses bad trailers and framing/routing fields", () => {
    for (const tr of [
      [["Bad Name", "v"]],
      [["X", "a\r\nInjected: 1"]],
      [["X", "a\nb"]],
      [["X", "a\x00"]],
      [["X", "\u20ac"]],
      [["", "v"]],
      [["Content-Length", "5"]],
      [["transfer-encoding", "chunked"]],
      [["Host", "x"]],
      [["Trailer", "x"]]
    ] as Array<Array<[string, string]>>) {
      const e = left(lastChunk(tr))
      expect(e._tag).toBe("InvalidHeader")
      expect(e.side).toBe("request")
    }
  })

})
