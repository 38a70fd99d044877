/**
 * Response parser: body framing (RFC 9112 §6.3), keep-alive, interim responses, upgrades,
 * pipelining, and chunked transfer coding. Each case runs whole / split at every byte / byte by
 * byte / random chunks (parser-harness.ts).
 */
import { describe } from "vitest"
import type { Case } from "./parser-harness.js"
import { D, E, END, H, runCases } from "./parser-harness.js"

const S = "HTTP/1.1 200 OK\r\n"
const TE = ["Transfer-Encoding", "chunked"]
const chunkedHead = (extra: ReadonlyArray<string> = [], o: { keepAlive?: boolean; version?: 10 | 11 } = {}) =>
  H(200, "OK", [...TE, ...extra], { framing: "chunked", ...o })

describe("Content-Length framing", () => {
  const okCL = (name: string, value: string, n: number): Case => ({
    name: `Content-Length ${JSON.stringify(value)} accepted`,
    input: `${S}Content-Length: ${value}\r\n\r\n${"x".repeat(n)}`,
    events: n === 0
      ? [H(200, "OK", ["Content-Length", value.trim()], { contentLength: n }), END()]
      : [H(200, "OK", ["Content-Length", value.trim()], { contentLength: n }), D("x".repeat(n)), END()]
  })
  const badCL = (value: string, status = 200, method = "GET"): Case => ({
    name: `Content-Length ${JSON.stringify(value)} refused (${method} ${status})`,
    input: `HTTP/1.1 ${status} X\r\nContent-Length: ${value}\r\n\r\n`,
    method,
    events: [E("InvalidContentLength")]
  })
  runCases([
    okCL("zero", "0", 0),
    okCL("plain", "5", 5),
    okCL("leading zeros", "007", 7),
    okCL("identical repeats in one field", "3, 3", 3),
    okCL("identical repeats without space", "3,3", 3),
    okCL("identical repeats, three", "2 , 2,2", 2),
    badCL("+5"),
    badCL("-1"),
    badCL("5 5"),
    badCL("5, 6"),
    badCL("0x5"),
    badCL(""),
    badCL("9007199254740992"),
    badCL("99999999999999999999999"),
    badCL("1e3"),
    badCL("5.0"),
    badCL("5,"),
    badCL(",5"),
    badCL("5,,5"),
    badCL("five"),
    badCL("\xb5"),
    badCL("-1", 204),
    badCL("abc", 304),
    badCL("5, 6", 204),
    badCL("x", 200, "HEAD"),
    badCL("x", 100),
    {
      name: "Content-Length 2^53-1 accepted, never allocated",
      input: `${S}Content-Length: 9007199254740991\r\n\r\nabc`,
      events: [
        H(200, "OK", ["Content-Length", "9007199254740991"], { contentLength: 9007199254740991 }),
        D("abc"),
        E("IncompleteRead", { expected: 9007199254740988 })
      ]
    },
    {
      name: "identical Content-Length fields collapse",
      input: `${S}Content-Length: 4\r\ncontent-length: 4\r\n\r\nbody`,
      events: [H(200, "OK", ["Content-Length", "4", "content-length", "4"], { contentLength: 4 }), D("body"), END()]
    },
    {
      name: "numerically equal Content-Length fields collapse",
      input: `${S}Content-Length: 04\r\nContent-Length: 4\r\n\r\nbody`,
      events: [H(200, "OK", ["Content-Length", "04", "Content-Length", "4"], { contentLength: 4 }), D("body"), END()]
    },
    {
      name: "conflicting Content-Length fields refused",
      input: `${S}Content-Length: 4\r\nContent-Length: 5\r\n\r\nbody`,
      events: [E("InvalidContentLength")]
    },
    {
      name: "Content-Length field and empty one refused",
      input: `${S}Content-Length: 4\r\nContent-Length:\r\n\r\nbody`,
      events: [E("InvalidContentLength")]
    },
    {
      name: "name case-insensitive: CONTENT-LENGTH",
      input: `${S}CONTENT-LENGTH: 2\r\n\r\nhi`,
      events: [H(200, "OK", ["CONTENT-LENGTH", "2"], { contentLength: 2 }), D("hi"), END()]
    },
    {
      name: "Content-Length body: short read at EOF",
      input: `${S}Content-Length: 10\r\n\r\nabc`,
      events: [H(200, "OK", ["Content-Length", "10"], { contentLength: 10 }), D("abc"), E("IncompleteRead", { expected: 7 })]
    },
    {
      name: "Content-Length body: nothing at EOF",
      input: `${S}Content-Length: 10\r\n\r\n`,
      events: [H(200, "OK", ["Content-Length", "10"], { contentLength: 10 }), E("IncompleteRead", { expected: 10 })]
    },
    {
      name: "Content-Length body: extra bytes stay buffered",
      input: `${S}Content-Length: 3\r\n\r\nabcEXTRA`,
      events: [H(200, "OK", ["Content-Length", "3"], { contentLength: 3 }), D("abc"), END()],
      leftover: "EXTRA",
      state: "idle"
    },
    {
      name: "Content-Length body without EOF waits",
      input: `${S}Content-Length: 10\r\n\r\nabc`,
      eof: false,
      events: [H(200, "OK", ["Content-Length", "10"], { contentLength: 10 }), D("abc")],
      state: "body"
    },
    {
      name: "binary body with CR LF NUL bytes",
      input: `${S}Content-Length: 6\r\n\r\n\r\n\x00\xff\r\n`,
      events: [H(200, "OK", ["Content-Length", "6"], { contentLength: 6 }), D("\r\n\x00\xff\r\n"), END()]
    }
  ])
})

describe("responses without a body", () => {
  runCases([
    {
      name: "204 ignores its Content-Length; bytes stay buffered",
      input: "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
      events: [H(204, "No Content", ["Content-Length", "5"]), END()],
      leftover: "hello"
    },
    {
      name: "304 ignores its Content-Length",
      input: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
      events: [H(304, "Not Modified", ["Content-Length", "10"]), END()]
    },
    {
      name: "304 ignores Transfer-Encoding",
      input: "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
      events: [H(304, "Not Modified", TE), END()]
    },
    {
      name: "HEAD: Content-Length not read",
      input: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
      method: "HEAD",
      events: [H(200, "OK", ["Content-Length", "100"]), END()]
    },
    {
      name: "HEAD: body bytes are left for the next response",
      input: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
      method: "HEAD",
      events: [H(200, "OK", ["Content-Length", "5"]), END()],
      leftover: "hello"
    },
    {
      name: "HEAD: chunked not read",
      input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
      method: "HEAD",
      events: [H(200, "OK", TE), END()]
    },
    {
      name: "HEAD: an unknown Transfer-Encoding is not a framing error",
      input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
      method: "HEAD",
      events: [H(200, "OK", ["Transfer-Encoding", "gzip"]), END()]
    },
    {
      name: "HEAD: no framing headers, not close-delimited",
      input: "HTTP/1.1 200 OK\r\n\r\n",
      method: "HEAD",
      events: [H(200, "OK"), END()]
    },
    {
      name: "HEAD on HTTP/1.0",
      input: "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n",
      method: "HEAD",
      events: [H(200, "OK", ["Content-Length", "5"], { version: 10, keepAlive: false }), END()]
    },
    {
      name: "204 without headers",
      input: "HTTP/1.1 204 No Content\r\n\r\n",
      events: [H(204, "No Content"), END()]
    },
    {
      name: "205 is not special: close-delimited",
      input: "HTTP/1.1 205 Reset\r\n\r\n",
      events: [H(205, "Reset", [], { framing: "close", keepAlive: false }), END()]
    },
    {
      name: "TE together with CL refused even on HEAD",
      input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
      method: "HEAD",
      events: [E("InvalidContentLength")]
    }
  ])
})

describe("close-delimited bodies and keep-alive", () => {
  const ka = (name: string, status: string, headers: ReadonlyArray<string>, keepAlive: boolean, version: 10 | 11 = 11): Case => {
    const lines = []
    for (let i = 0; i < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}\r\n`)
    return {
      name,
      input: `${status}\r\n${lines.join("")}Content-Length: 1\r\n\r\nx`,
      events: [
        H(Number(status.split(" ")[1]), status.split(" ").slice(2).join(" "), [...headers, "Content-Length", "1"], {
          contentLength: 1,
          keepAlive,
          version
        }),
        D("x"),
        END()
      ]
    }
  }
  runCases([
    {
      name: "no framing headers: read until close",
      input: `${S}X: y\r\n\r\nline one\r\nline two\r\n`,
      events: [H(200, "OK", ["X", "y"], { framing: "close", keepAlive: false }), D("line one\r\nline two\r\n"), END()]
    },
    {
      name: "close-delimited empty body",
      input: `${S}\r\n`,
      events: [H(200, "OK", [], { framing: "close", keepAlive: false }), END()]
    },
    {
      name: "close-delimited without EOF keeps reading",
      input: `${S}\r\nabc`,
      eof: false,
      events: [H(200, "OK", [], { framing: "close", keepAlive: false }), D("abc")],
      state: "body"
    },
    {
      name: "close-delimited with Connection: keep-alive is still not reusable",
      input: `${S}Connection: keep-alive\r\n\r\nabc`,
      events: [H(200, "OK", ["Connection", "keep-alive"], { framing: "close", keepAlive: false }), D("abc"), END()]
    },
    ka("HTTP/1.1 default keep-alive", "HTTP/1.1 200 OK", [], true),
    ka("Connection: close", "HTTP/1.1 200 OK", ["Connection", "close"], false),
    ka("Connection: Close (case)", "HTTP/1.1 200 OK", ["Connection", "Close"], false),
    ka("Connection: CLOSE", "HTTP/1.1 200 OK", ["connection", "CLOSE"], false),
    ka("Connection token list with close", "HTTP/1.1 200 OK", ["Connection", "keep-alive, close"], false),
    ka("Connection token list with spaces", "HTTP/1.1 200 OK", ["Connection", "foo ,  close  , bar"], false),
    ka("Connection: closed is not close", "HTTP/1.1 200 OK", ["Connection", "closed"], true),
    ka("Connection: upgrade", "HTTP/1.1 200 OK", ["Connection", "upgrade"], true),
    ka("close in a second Connection field", "HTTP/1.1 200 OK", ["Connection", "foo", "Connection", "close"], false),
    ka("HTTP/1.0 default close", "HTTP/1.0 200 OK", [], false, 10),
    ka("HTTP/1.0 keep-alive", "HTTP/1.0 200 OK", ["Connection", "keep-alive"], true, 10),
    ka("HTTP/1.0 Keep-Alive (case)", "HTTP/1.0 200 OK", ["Connection", "Keep-Alive"], true, 10),
    ka("HTTP/1.0 keep-alive and close", "HTTP/1.0 200 OK", ["Connection", "keep-alive, close"], false, 10),
    ka("HTTP/1.0 Keep-Alive header alone keeps the connection (Python _check_close)", "HTTP/1.0 200 OK", ["Keep-Alive", "timeout=5"], true, 10),
    ka("HTTP/1.0 Keep-Alive header with Connection: close", "HTTP/1.0 200 OK", ["Keep-Alive", "timeout=5", "Connection", "close"], false, 10),
    ka("HTTP/0.9 keep-alive", "HTTP/0.9 200 OK", ["Connection", "keep-alive"], true, 10)
  ])
})

describe("Transfer-Encoding framing", () => {
  const badTE = (name: string, fields: string, value: string): Case => ({
    name,
    input: `${S}${fields}\r\n0\r\n\r\n`,
    events: [E("UnknownTransferEncoding", { value })]
  })
  runCases([
    {
      name: "chunked",
      input: `${S}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
      events: [chunkedHead(), D("hello"), END()]
    },
    {
      name: "Chunked (case-insensitive)",
      input: `${S}Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n`,
      events: [H(200, "OK", ["Transfer-Encoding", "Chunked"], { framing: "chunked" }), END()]
    },
    {
      name: "CHUNKED, name in lower case",
      input: `${S}transfer-encoding: CHUNKED\r\n\r\n0\r\n\r\n`,
      events: [H(200, "OK", ["transfer-encoding", "CHUNKED"], { framing: "chunked" }), END()]
    },
    {
      name: "chunked with surrounding whitespace",
      input: `${S}Transfer-Encoding: \t chunked \t\r\n\r\n0\r\n\r\n`,
      events: [chunkedHead(), END()]
    },
    {
      name: "chunked on HTTP/1.0 is not kept alive",
      input: `HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n2\r\nhi\r\n0\r\n\r\n`,
      events: [
        H(200, "OK", [...TE, "Connection", "keep-alive"], { framing: "chunked", version: 10, keepAlive: false }),
        D("hi"),
        END()
      ]
    },
    {
      name: "chunked with Connection: close",
      input: `${S}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`,
      events: [chunkedHead(["Connection", "close"], { keepAlive: false }), END()]
    },
    {
      name: "Transfer-Encoding with Content-Length refused",
      input: `${S}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
      events: [E("InvalidContentLength")]
    },
    {
      name: "Content-Length before Transfer-Encoding refused",
      input: `${S}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello`,
      events: [E("InvalidContentLength")]
    },
    {
      name: "invalid Transfer-Encoding with Content-Length: the pair is refused first",
      input: `${S}Transfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello`,
      events: [E("InvalidContentLength")]
    },
    badTE("chunkedchunked", "Transfer-Encoding: chunkedchunked\r\n", "chunkedchunked"),
    badTE("chunked, identity", "Transfer-Encoding: chunked, identity\r\n", "chunked, identity"),
    badTE("identity, chunked", "Transfer-Encoding: identity, chunked\r\n", "identity, chunked"),
    badTE("gzip, chunked (we decode no codings)", "Transfer-Encoding: gzip, chunked\r\n", "gzip, chunked"),
    badTE("gzip alone", "Transfer-Encoding: gzip\r\n", "gzip"),
    badTE("identity alone", "Transfer-Encoding: identity\r\n", "identity"),
    badTE("chunked twice in one field", "Transfer-Encoding: chunked, chunked\r\n", "chunked, chunked"),
    badTE("chunked in two fields", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "chunked, chunked"),
    badTE("chunked then empty field", "Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n", "chunked, "),
    badTE("empty then chunked field", "Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n", ", chunked"),
    badTE("empty value", "Transfer-Encoding: \r\n", ""),
    badTE("trailing comma", "Transfer-Encoding: chunked,\r\n", "chunked,"),
    badTE("leading comma", "Transfer-Encoding: ,chunked\r\n", ",chunked"),
    badTE("x-chunked", "Transfer-Encoding: x-chunked\r\n", "x-chunked"),
    badTE("chunked with a parameter", "Transfer-Encoding: chunked;q=1\r\n", "chunked;q=1"),
    badTE("quoted chunked", 'Transfer-Encoding: "chunked"\r\n', '"chunked"'),
    badTE("chunked with inner space", "Transfer-Encoding: chun ked\r\n", "chun ked"),
    badTE("chunked folded with identity", "Transfer-Encoding: chunked\r\n ,identity\r\n", "chunked ,identity"),
    {
      name: "VT-prefixed chunked is an invalid header",
      input: `${S}Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n`,
      events: [E("InvalidHeader", { side: "response" })]
    },
    {
      name: "NUL-suffixed chunked is an invalid header",
      input: `${S}Transfer-Encoding: chunked\x00\r\n\r\n0\r\n\r\n`,
      events: [E("InvalidHeader", { side: "response" })]
    },
    {
      name: "space before the colon of Transfer-Encoding",
      input: `${S}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
      events: [E("InvalidHeader", { side: "response" })]
    },
    {
      name: "folded Transfer-Encoding line does not frame (read until close)",
      input: `${S}X: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      events: [H(200, "OK", ["X", "y Transfer-Encoding: chunked"], { framing: "close", keepAlive: false }), D("0\r\n\r\n"), END()]
    },
    {
      name: "Transfer-Encoding-X is another field",
      input: `${S}Transfer-Encoding-X: chunked\r\nContent-Length: 2\r\n\r\nhi`,
      events: [H(200, "OK", ["Transfer-Encoding-X", "chunked", "Content-Length", "2"], { contentLength: 2 }), D("hi"), END()]
    }
  ])
})

describe("chunked bodies", () => {
  const ch = (name: string, body: string, data: string, trailers: ReadonlyArray<string> = []): Case => ({
    name,
    input: `${S}Transfer-Encoding: chunked\r\n\r\n${body}`,
    events: data === "" ? [chunkedHead(), END(trailers)] : [chunkedHead(), D(data), END(trailers)]
  })
  const bad = (name: string, body: string, data = "", tag = "InvalidChunk", fields?: Record<string, unknown>): Case => ({
    name,
    input: `${S}Transfer-Encoding: chunked\r\n\r\n${body}`,
    events: data === "" ? [chunkedHead(), E(tag, fields)] : [chunkedHead(), D(data), E(tag, fields)]
  })
  const eofCase = (name: string, body: string, data: string, expected: number | undefined): Case => ({
    name,
    input: `${S}Transfer-Encoding: chunked\r\n\r\n${body}`,
    events: data === ""
      ? [chunkedHead(), E("IncompleteRead", { expected })]
      : [chunkedHead(), D(data), E("IncompleteRead", { expected })]
  })
  runCases([
    ch("empty body", "0\r\n\r\n", ""),
    ch("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"),
    ch("several chunks", "1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n0\r\n\r\n", "abcdef"),
    ch("hex sizes, upper case", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
    ch("hex sizes, lower case", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
    ch("two-digit hex size", "1F\r\n" + "z".repeat(31) + "\r\n0\r\n\r\n", "z".repeat(31)),
    ch("leading zeros in the size", "0005\r\nhello\r\n000\r\n\r\n", "hello"),
    ch("chunk data containing CRLF", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"),
    ch("extension ignored", "5;foo=bar\r\nhello\r\n0\r\n\r\n", "hello"),
    ch("several extensions", "5;a=1;b=2;c\r\nhello\r\n0\r\n\r\n", "hello"),
    ch("quoted extension", '5;foo="a b;c"\r\nhello\r\n0\r\n\r\n', "hello"),
    ch("whitespace before the extension", "5 ;x=y\r\nhello\r\n0\r\n\r\n", "hello"),
    ch("tab before the extension", "5\t;x\r\nhello\r\n0\r\n\r\n", "hello"),
    ch("whitespace after the size", "5  \r\nhello\r\n0\r\n\r\n", "hello"),
    ch("extension on the last chunk", "5\r\nhello\r\n0;end=1\r\n\r\n", "hello"),
    ch("obs-text in an extension", "5;x=\xe9\r\nhello\r\n0\r\n\r\n", "hello"),
    ch("one trailer", "5\r\nhello\r\n0\r\nExpires: never\r\n\r\n", "hello", ["Expires", "never"]),
    ch("several trailers, order and case kept", "0\r\nA: 1\r\nb: 2\r\nA: 3\r\n\r\n", "", ["A", "1", "b", "2", "A", "3"]),
    ch("trailer value trimmed", "0\r\nA:   1  \r\n\r\n", "", ["A", "1"]),
    ch("trailer with obs-fold", "0\r\nA: 1\r\n 2\r\n\r\n", "", ["A", "1 2"]),
    ch("trailers ended by bare LF (same rule as headers)", "0\r\nA: 1\n\n", "", ["A", "1"]),
    ch("trailer section ended by bare LF", "0\r\n\n", ""),
    ch("Content-Length in a trailer does not change framing", "2\r\nhi\r\n0\r\nContent-Length: 99\r\n\r\n", "hi", [
      "Content-Length", "99"
    ]),
    ch("large chunk", "400\r\n" + "q".repeat(1024) + "\r\n0\r\n\r\n", "q".repeat(1024)),
    {
      name: "chunked body followed by leftover bytes",
      input: `${S}Transfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\nNEXT`,
      events: [chunkedHead(), D("hi"), END()],
      leftover: "NEXT"
    },
    {
      name: "chunked without EOF in the middle of the data",
      input: `${S}Transfer-Encoding: chunked\r\n\r\n5\r\nhel`,
      eof: false,
      events: [chunkedHead(), D("hel")],
      state: "body"
    },
    bad("empty size line", "\r\nhello\r\n0\r\n\r\n"),
    bad("non-hex size", "x\r\nhello\r\n0\r\n\r\n"),
    bad("size with g", "5g\r\nhello\r\n0\r\n\r\n"),
    bad("negative size", "-5\r\nhello\r\n0\r\n\r\n"),
    bad("plus sign", "+5\r\nhello\r\n0\r\n\r\n"),
    bad("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"),
    bad("leading space", " 5\r\nhello\r\n0\r\n\r\n"),
    bad("inner space in the size", "5 5\r\nhello\r\n0\r\n\r\n"),
    bad("NUL after the size", "5\x00\r\nhello\r\n0\r\n\r\n"),
    bad("NUL before the size", "\x005\r\nhello\r\n0\r\n\r\n"),
    bad("bare LF after the size", "5\nhello\r\n0\r\n\r\n"),
    bad("bare LF after whitespace", "5 \nhello\r\n0\r\n\r\n"),
    bad("bare LF after an extension", "5;a=b\nhello\r\n0\r\n\r\n"),
    bad("bare CR after the size", "5\rhello\r\n0\r\n\r\n"),
    bad("extension without size", ";a=b\r\nhello\r\n0\r\n\r\n"),
    bad("control character in an extension", "5;a=\x01\r\nhello\r\n0\r\n\r\n"),
    bad("DEL in an extension", "5;a=\x7f\r\nhello\r\n0\r\n\r\n"),
    bad("size 2^53 overflows", "20000000000000\r\n"),
    bad("size 16^16 overflows", "10000000000000000\r\n"),
    bad("size wrapping 2^64 refused", "10000000000000005\r\nhello\r\n"),
    bad("data followed by X", "5\r\nhelloX\r\n0\r\n\r\n", "hello"),
    bad("data followed by bare LF", "5\r\nhello\n0\r\n\r\n", "hello"),
    bad("data followed by CR then X", "5\r\nhello\rX0\r\n\r\n", "hello"),
    bad("data longer than the size (CVE-2025-22871 style)", "2\r\nabcd\r\n0\r\n\r\n", "ab"),
    bad("size smaller than the data with LF smuggling", "3\r\nabc\n\r\n0\r\n\r\n", "abc"),
    bad("last chunk not followed by CRLF or trailers", "0\r\nX\r\n\r\n", "", "InvalidHeader", { side: "response" }),
    bad("invalid trailer name", "0\r\nBad Name: 1\r\n\r\n", "", "InvalidHeader", { side: "response" }),
    bad("trailer with NUL", "0\r\nA: \x00\r\n\r\n", "", "InvalidHeader", { side: "response" }),
    bad("trailer with bare CR", "0\r\nA: 1\r\r\n\r\n", "", "InvalidHeader", { side: "response" }),
    bad("obs-fold as the first trailer", "0\r\n A: 1\r\n\r\n", "", "InvalidHeader", { side: "response" }),
    bad("bare CR ending the trailer section", "0\r\nA: 1\r\n\rX", "", "InvalidHeader", { side: "response" }),
    eofCase("EOF in chunk data", "5\r\nhel", "hel", 2),
    eofCase("EOF right after the size line", "5\r\n", "", 5),
    eofCase("EOF in the size line", "5", "", undefined),
    eofCase("EOF in an extension", "5;ab", "", undefined),
    eofCase("EOF before the CRLF after data", "5\r\nhello", "hello", undefined),
    eofCase("EOF between CR and LF after data", "5\r\nhello\r", "hello", undefined),
    eofCase("EOF between chunks", "5\r\nhello\r\n", "hello", undefined),
    eofCase("EOF after the last chunk", "5\r\nhello\r\n0\r\n", "hello", undefined),
    eofCase("EOF in a trailer", "0\r\nA: 1", "", undefined),
    eofCase("EOF before any chunk", "", "", undefined),
    eofCase("EOF in a big chunk (2^53-1)", "1fffffffffffff\r\nab", "ab", 9007199254740989)
  ])
})

describe("chunked limits", () => {
  const base = `${S}Transfer-Encoding: chunked\r\n\r\n`
  runCases([
    {
      name: "extension at the extension limit",
      input: `${base}5;12345678\r\nhello\r\n0\r\n\r\n`,
      limits: { maxChunkExtensionSize: 9 },
      events: [chunkedHead(), D("hello"), END()]
    },
    {
      name: "extension over the extension limit",
      input: `${base}5;123456789\r\nhello\r\n0\r\n\r\n`,
      limits: { maxChunkExtensionSize: 9 },
      events: [chunkedHead(), E("LineTooLong", { what: "chunk size line", limit: 9 })]
    },
    {
      name: "endless extension fails without EOF",
      input: `${base}5;` + "e".repeat(100),
      eof: false,
      limits: { maxChunkExtensionSize: 16 },
      events: [chunkedHead(), E("LineTooLong", { what: "chunk size line", limit: 16 })]
    },
    {
      name: "size line at the line limit (leading zeros)",
      input: `${base}${"0".repeat(29)}5\r\nhello\r\n0\r\n\r\n`,
      limits: { maxLineSize: 30 },
      events: [chunkedHead(), D("hello"), END()]
    },
    {
      name: "size line over the line limit (leading zeros)",
      input: `${base}${"0".repeat(30)}5\r\nhello\r\n0\r\n\r\n`,
      limits: { maxLineSize: 30 },
      events: [chunkedHead(), E("LineTooLong", { what: "chunk size line", limit: 30 })]
    },
    {
      name: "endless zeros fail at the line limit",
      input: `${base}${"0".repeat(100)}`,
      eof: false,
      limits: { maxLineSize: 30 },
      events: [chunkedHead(), E("LineTooLong", { what: "chunk size line", limit: 30 })]
    },
    {
      name: "endless whitespace after the size fails at the line limit",
      input: `${base}5${" ".repeat(100)}`,
      eof: false,
      limits: { maxLineSize: 30 },
      events: [chunkedHead(), E("LineTooLong", { what: "chunk size line", limit: 30 })]
    },
    {
      name: "trailers at the limit",
      input: `${base}0\r\nA: 1\r\nB: 2\r\n\r\n`,
      limits: { maxTrailers: 2 },
      events: [chunkedHead(), END(["A", "1", "B", "2"])]
    },
    {
      name: "trailers over the limit",
      input: `${base}0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n`,
      limits: { maxTrailers: 2 },
      events: [chunkedHead(), E("TooManyHeaders", { what: "trailers", limit: 2 })]
    },
    {
      name: "trailer line over the line limit",
      input: `${base}0\r\nA: ${"x".repeat(30)}\r\n\r\n`,
      limits: { maxLineSize: 30 },
      events: [chunkedHead(), E("LineTooLong", { what: "trailer line", limit: 30 })]
    },
    {
      name: "endless trailer line fails without EOF",
      input: `${base}0\r\nA: ${"x".repeat(100)}`,
      eof: false,
      limits: { maxLineSize: 30 },
      events: [chunkedHead(), E("LineTooLong", { what: "trailer line", limit: 30 })]
    },
    {
      name: "trailer line at the line limit",
      input: `${base}0\r\nTrailer-Abcd: 1234567890123456\r\n\r\n`,
      limits: { maxLineSize: 30 },
      events: [chunkedHead(), END(["Trailer-Abcd", "1234567890123456"])]
    }
  ])
})

describe("interim responses", () => {
  const final = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
  const finalEvents = [H(200, "OK", ["Content-Length", "2"], { contentLength: 2 }), D("hi"), END()]
  runCases([
    {
      name: "100 Continue then 200",
      input: "HTTP/1.1 100 Continue\r\n\r\n" + final,
      events: [H(100, "Continue", [], { interim: true }), ...finalEvents]
    },
    {
      name: "many 100 Continue then 200",
      input: "HTTP/1.1 100 Continue\r\n\r\n".repeat(5) + final,
      events: [...Array.from({ length: 5 }, () => H(100, "Continue", [], { interim: true })), ...finalEvents]
    },
    {
      name: "103 Early Hints with headers then 200",
      input: "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>\r\n\r\n" + final,
      events: [H(103, "Early Hints", ["Link", "</a.css>; rel=preload", "Link", "</b.js>"], { interim: true }), ...finalEvents]
    },
    {
      name: "102 Processing with bare LF",
      input: "HTTP/1.1 102 Processing\n\n" + final,
      events: [H(102, "Processing", [], { interim: true }), ...finalEvents]
    },
    {
      name: "interim with Connection: close",
      input: "HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n" + final,
      events: [H(100, "Continue", ["Connection", "close"], { interim: true, keepAlive: false }), ...finalEvents]
    },
    {
      name: "interim response on HTTP/1.0",
      input: "HTTP/1.0 100 Continue\r\n\r\n" + final,
      events: [H(100, "Continue", [], { interim: true, version: 10, keepAlive: false }), ...finalEvents]
    },
    {
      name: "interim to HEAD then final",
      input: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
      method: "HEAD",
      events: [H(100, "Continue", [], { interim: true }), H(200, "OK", ["Content-Length", "9"]), END()]
    },
    {
      name: "blank lines between interim and final",
      input: "HTTP/1.1 100 Continue\r\n\r\n\r\n" + final,
      events: [H(100, "Continue", [], { interim: true }), ...finalEvents]
    },
    {
      name: "interim responses at the limit",
      input: "HTTP/1.1 100 Continue\r\n\r\n".repeat(3) + final,
      limits: { maxInterimResponses: 3 },
      events: [...Array.from({ length: 3 }, () => H(100, "Continue", [], { interim: true })), ...finalEvents]
    },
    {
      name: "interim responses over the limit",
      input: "HTTP/1.1 100 Continue\r\n\r\n".repeat(4) + final,
      limits: { maxInterimResponses: 3 },
      events: [
        ...Array.from({ length: 3 }, () => H(100, "Continue", [], { interim: true })),
        E("TooManyHeaders", { what: "interim responses", limit: 3 })
      ]
    },
    {
      name: "endless interim responses fail without EOF",
      input: "HTTP/1.1 100 Continue\r\n\r\n".repeat(5),
      eof: false,
      limits: { maxInterimResponses: 2 },
      events: [
        H(100, "Continue", [], { interim: true }),
        H(100, "Continue", [], { interim: true }),
        E("TooManyHeaders", { what: "interim responses", limit: 2 })
      ]
    },
    {
      name: "EOF after an interim response: RemoteDisconnected",
      input: "HTTP/1.1 100 Continue\r\n\r\n",
      events: [H(100, "Continue", [], { interim: true }), E("RemoteDisconnected")]
    },
    {
      name: "interim without EOF waits in state head",
      input: "HTTP/1.1 100 Continue\r\n\r\n",
      eof: false,
      events: [H(100, "Continue", [], { interim: true })],
      state: "head"
    },
    {
      name: "status 199 is interim",
      input: "HTTP/1.1 199 Whatever\r\n\r\n" + final,
      events: [H(199, "Whatever", [], { interim: true }), ...finalEvents]
    }
  ])
})

describe("upgrades", () => {
  runCases([
    {
      name: "101 Switching Protocols: the rest is the new protocol",
      input: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello",
      events: [
        H(101, "Switching Protocols", ["Upgrade", "websocket", "Connection", "Upgrade"], { upgrade: true, keepAlive: false }),
        END()
      ],
      leftover: "\x81\x05hello",
      state: "upgraded"
    },
    {
      name: "101 with Content-Length: no body read",
      input: "HTTP/1.1 101 Switching\r\nContent-Length: 3\r\n\r\nabc",
      events: [H(101, "Switching", ["Content-Length", "3"], { upgrade: true, keepAlive: false }), END()],
      leftover: "abc",
      state: "upgraded"
    },
    {
      name: "CONNECT 200: tunnel bytes are left",
      input: "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01",
      method: "CONNECT",
      events: [H(200, "Connection established", [], { upgrade: true, keepAlive: false }), END()],
      leftover: "\x16\x03\x01",
      state: "upgraded"
    },
    {
      name: "CONNECT 200 with Content-Length ignored",
      input: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
      method: "CONNECT",
      events: [H(200, "OK", ["Content-Length", "5"], { upgrade: true, keepAlive: false }), END()],
      leftover: "hello"
    },
    {
      name: "CONNECT 204 is a tunnel too (2xx)",
      input: "HTTP/1.1 204 OK\r\n\r\n",
      method: "CONNECT",
      events: [H(204, "OK", [], { upgrade: true, keepAlive: false }), END()]
    },
    {
      name: "CONNECT 407 is a normal response with a body",
      input: "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\nauth",
      method: "CONNECT",
      events: [H(407, "Proxy Authentication Required", ["Content-Length", "4"], { contentLength: 4 }), D("auth"), END()]
    },
    {
      name: "CONNECT after 100 Continue",
      input: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nTUNNEL",
      method: "CONNECT",
      events: [H(100, "Continue", [], { interim: true }), H(200, "OK", [], { upgrade: true, keepAlive: false }), END()],
      leftover: "TUNNEL"
    },
    {
      name: "no more events after an upgrade even with another expect",
      input: "HTTP/1.1 101 Switching\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
      method: ["GET", "GET"],
      events: [H(101, "Switching", [], { upgrade: true, keepAlive: false }), END()],
      leftover: "HTTP/1.1 200 OK\r\n\r\n"
    }
  ])
})

describe("pipelining and leftovers", () => {
  const r1 = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
  const r2 = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
  const r3 = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
  const e1 = [H(200, "OK", ["Content-Length", "3"], { contentLength: 3 }), D("one"), END()]
  const e2 = [H(201, "Created", TE, { framing: "chunked" }), D("two"), END()]
  const e3 = [H(404, "Not Found", ["Content-Length", "0"], { contentLength: 0 }), END()]
  runCases([
    { name: "two responses back to back", input: r1 + r2, method: ["GET", "GET"], events: [...e1, ...e2], leftover: "" },
    {
      name: "three responses back to back",
      input: r1 + r2 + r3,
      method: ["GET", "GET", "GET"],
      events: [...e1, ...e2, ...e3],
      state: "idle"
    },
    {
      name: "HEAD then GET pipelined",
      input: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n" + r1,
      method: ["HEAD", "GET"],
      events: [H(200, "OK", ["Content-Length", "3"]), END(), ...e1]
    },
    {
      name: "one expected, two sent: the second stays buffered",
      input: r1 + r3,
      events: e1,
      leftover: r3,
      state: "idle"
    },
    {
      name: "interim inside a pipeline",
      input: "HTTP/1.1 100 Continue\r\n\r\n" + r1 + r3,
      method: ["POST", "GET"],
      events: [H(100, "Continue", [], { interim: true }), ...e1, ...e3]
    },
    {
      name: "second response truncated by EOF",
      input: r1 + "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
      method: ["GET", "GET"],
      events: [...e1, H(200, "OK", ["Content-Length", "9"], { contentLength: 9 }), D("abc"), E("IncompleteRead", { expected: 6 })]
    },
    {
      name: "EOF after the first of two expected: RemoteDisconnected",
      input: r1,
      method: ["GET", "GET"],
      events: [...e1, E("RemoteDisconnected")]
    },
    {
      name: "garbage after a response is refused when the next one is expected",
      input: r1 + "\x16\x03\x01",
      method: ["GET", "GET"],
      events: [...e1, E("BadStatusLine", { line: "\x16\x03\x01" })]
    },
    {
      name: "garbage after a response stays buffered when nothing is expected",
      input: r1 + "junk",
      events: e1,
      leftover: "junk"
    },
    {
      name: "204 then 200 pipelined",
      input: "HTTP/1.1 204 No Content\r\n\r\n" + r1,
      method: ["DELETE", "GET"],
      events: [H(204, "No Content"), END(), ...e1]
    },
    {
      name: "responses with bare LF back to back",
      input: "HTTP/1.1 200 OK\nContent-Length: 1\n\na" + "HTTP/1.1 200 OK\nContent-Length: 1\n\nb",
      method: ["GET", "GET"],
      events: [
        H(200, "OK", ["Content-Length", "1"], { contentLength: 1 }),
        D("a"),
        END(),
        H(200, "OK", ["Content-Length", "1"], { contentLength: 1 }),
        D("b"),
        END()
      ]
    }
  ])
})
