/**
 * Response parser, status line and header section. Every case runs fed whole, split at every
 * byte, byte by byte and in random chunks (see parser-harness.ts).
 */
import { describe } from "vitest"
import type { Case } from "./parser-harness.js"
import { D, E, END, H, runCases } from "./parser-harness.js"

const OK5 = "Content-Length: 5\r\n\r\nhello"
const cl5 = ["Content-Length", "5"]

describe("status line: accepted forms", () => {
  const cases: Array<Case> = [
    {
      name: "simple 200 with Content-Length",
      input: "HTTP/1.1 200 OK\r\n" + OK5,
      events: [H(200, "OK", cl5, { contentLength: 5 }), D("hello"), END()],
      state: "idle"
    },
    {
      name: "reason with spaces",
      input: "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
      events: [H(404, "Not Found", ["Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "empty reason after the space",
      input: "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
      events: [H(200, "", ["Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "reason missing with its space",
      input: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
      events: [H(200, "", ["Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "reason with obs-text (Latin-1)",
      input: "HTTP/1.1 200 \xe9t\xe9 \xff\r\nContent-Length: 0\r\n\r\n",
      events: [H(200, "\xe9t\xe9 \xff", ["Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "reason with an inner tab",
      input: "HTTP/1.1 200 O\tK\r\nContent-Length: 0\r\n\r\n",
      events: [H(200, "O\tK", ["Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "reason whitespace trimmed",
      input: "HTTP/1.1 200   OK \t \r\nContent-Length: 0\r\n\r\n",
      events: [H(200, "OK", ["Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "reason with punctuation and digits",
      input: "HTTP/1.1 418 I'm a teapot (RFC 2324) 42\r\nContent-Length: 0\r\n\r\n",
      events: [H(418, "I'm a teapot (RFC 2324) 42", ["Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "HTTP/1.0 reads as 10, close-delimited",
      input: "HTTP/1.0 200 OK\r\n\r\nbody",
      events: [H(200, "OK", [], { version: 10, framing: "close", keepAlive: false }), D("body"), END()]
    },
    {
      name: "HTTP/1.0 with Content-Length is not kept alive",
      input: "HTTP/1.0 200 OK\r\n" + OK5,
      events: [H(200, "OK", cl5, { version: 10, contentLength: 5, keepAlive: false }), D("hello"), END()]
    },
    {
      name: "HTTP/0.9 literal reads as 10",
      input: "HTTP/0.9 200 OK\r\n" + OK5,
      events: [H(200, "OK", cl5, { version: 10, contentLength: 5, keepAlive: false }), D("hello"), END()]
    },
    {
      name: "HTTP/1.2 reads as 11",
      input: "HTTP/1.2 200 OK\r\n" + OK5,
      events: [H(200, "OK", cl5, { contentLength: 5 }), D("hello"), END()]
    },
    {
      name: "HTTP/1.9 reads as 11",
      input: "HTTP/1.9 200 OK\r\n" + OK5,
      events: [H(200, "OK", cl5, { contentLength: 5 }), D("hello"), END()]
    },
    {
      name: "HTTP/1.10 reads as 11",
      input: "HTTP/1.10 200 OK\r\n" + OK5,
      events: [H(200, "OK", cl5, { contentLength: 5 }), D("hello"), END()]
    },
    {
      name: "status 599",
      input: "HTTP/1.1 599 Whatever\r\nContent-Length: 0\r\n\r\n",
      events: [H(599, "Whatever", ["Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "status 999",
      input: "HTTP/1.1 999 X\r\nContent-Length: 0\r\n\r\n",
      events: [H(999, "X", ["Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "status 200 without reason and no headers, close-delimited",
      input: "HTTP/1.1 200\r\n\r\nxyz",
      events: [H(200, "", [], { framing: "close", keepAlive: false }), D("xyz"), END()]
    },
    {
      name: "one CRLF before the status line is skipped",
      input: "\r\nHTTP/1.1 200 OK\r\n" + OK5,
      events: [H(200, "OK", cl5, { contentLength: 5 }), D("hello"), END()]
    },
    {
      name: "several blank lines (CRLF and LF) before the status line are skipped",
      input: "\r\n\n\r\n\nHTTP/1.1 200 OK\r\n" + OK5,
      events: [H(200, "OK", cl5, { contentLength: 5 }), D("hello"), END()]
    },
    {
      name: "bare LF line endings throughout",
      input: "HTTP/1.1 200 OK\nContent-Length: 5\nX: y\n\nhello",
      events: [H(200, "OK", ["Content-Length", "5", "X", "y"], { contentLength: 5 }), D("hello"), END()]
    },
    {
      name: "mixed CRLF and LF line endings",
      input: "HTTP/1.1 200 OK\nContent-Length: 5\r\nX: y\n\r\nhello",
      events: [H(200, "OK", ["Content-Length", "5", "X", "y"], { contentLength: 5 }), D("hello"), END()]
    },
    {
      name: "head without EOF and without body stays waiting",
      input: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
      eof: false,
      events: [H(200, "OK", cl5, { contentLength: 5 }), D("hel")],
      state: "body"
    },
    {
      name: "partial head without EOF: no event",
      input: "HTTP/1.1 200 OK\r\nContent-Le",
      eof: false,
      events: [],
      state: "head"
    }
  ]
  runCases(cases)
})

describe("status line: refused", () => {
  const bad = (name: string, input: string, line: string): Case => ({
    name,
    input,
    events: [E("BadStatusLine", { line })]
  })
  const unknown = (name: string, input: string, version: string): Case => ({
    name,
    input,
    events: [E("UnknownProtocol", { version })]
  })
  runCases([
    bad("ICY 200 OK (shoutcast)", "ICY 200 OK\r\n\r\n", "ICY 200 OK"),
    bad("status 2000 (four digits)", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 2000 OK"),
    bad("status 2000 without reason", "HTTP/1.1 2000\r\n\r\n", "HTTP/1.1 2000"),
    bad("status 20 (two digits)", "HTTP/1.1 20\r\n\r\n", "HTTP/1.1 20"),
    bad("status 20 with reason", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 20 OK"),
    bad("status 099", "HTTP/1.1 099 X\r\n\r\n", "HTTP/1.1 099 X"),
    bad("status 000", "HTTP/1.1 000 X\r\n\r\n", "HTTP/1.1 000 X"),
    bad("status not digits", "HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1 abc OK"),
    bad("status 2x0", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 2x0 OK"),
    bad("status with sign", "HTTP/1.1 +20 OK\r\n\r\n", "HTTP/1.1 +20 OK"),
    bad("negative status", "HTTP/1.1 -200 OK\r\n\r\n", "HTTP/1.1 -200 OK"),
    bad("status glued to reason", "HTTP/1.1 200OK\r\n\r\n", "HTTP/1.1 200OK"),
    bad("two spaces before status", "HTTP/1.1  200 OK\r\n\r\n", "HTTP/1.1  200 OK"),
    bad("tab between version and status", "HTTP/1.1\t200 OK\r\n\r\n", "HTTP/1.1\t200 OK"),
    bad("version only", "HTTP/1.1\r\n\r\n", "HTTP/1.1"),
    bad("version and space only", "HTTP/1.1 \r\n\r\n", "HTTP/1.1 "),
    bad("HTTP/ only", "HTTP/\r\n\r\n", "HTTP/"),
    bad("HTTP/2.0 alone has no status", "HTTP/2.0\r\n\r\n", "HTTP/2.0"),
    bad("lower-case http", "http/1.1 200 OK\r\n\r\n", "http/1.1 200 OK"),
    bad("HTTPS/1.1", "HTTPS/1.1 200 OK\r\n\r\n", "HTTPS/1.1 200 OK"),
    bad("leading space", " HTTP/1.1 200 OK\r\n\r\n", " HTTP/1.1 200 OK"),
    bad("leading tab", "\tHTTP/1.1 200 OK\r\n\r\n", "\tHTTP/1.1 200 OK"),
    bad("TLS handshake bytes", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
    bad("HTML instead of HTTP", "<html><body>hi</body></html>\n", "<html><body>hi</body></html>"),
    bad("SSH banner", "SSH-2.0-OpenSSH_9.0\r\n", "SSH-2.0-OpenSSH_9.0"),
    bad("HTT then CRLF", "HTT\r\n", "HTT"),
    bad("HTTP then LF", "HTTP\n", "HTTP"),
    bad("bare CR after the status line", "HTTP/1.1 200 OK\r\rContent-Length: 4\r\n\r\nbody", "HTTP/1.1 200 OK\r\rContent-Length: 4"),
    bad("bare CR inside the reason", "HTTP/1.1 200 O\rK\r\n\r\n", "HTTP/1.1 200 O\rK"),
    bad("bare CR as the first byte", "\rHTTP/1.1 200 OK\r\n\r\n", "\rHTTP/1.1 200 OK"),
    bad("NUL in the reason", "HTTP/1.1 200 OK\x00\r\n\r\n", "HTTP/1.1 200 OK\x00"),
    bad("DEL in the reason", "HTTP/1.1 200 O\x7fK\r\n\r\n", "HTTP/1.1 200 O\x7fK"),
    bad("control character in the reason", "HTTP/1.1 200 O\x01K\r\n\r\n", "HTTP/1.1 200 O\x01K"),
    bad("control character in the version", "HTTP/1.\x011 200 OK\r\n\r\n", "HTTP/1.\x011 200 OK"),
    bad("garbage after blank lines", "\r\n\r\nGARBAGE\r\n", "GARBAGE"),
    bad("NUL byte first", "\x00HTTP/1.1 200 OK\r\n\r\n", "\x00HTTP/1.1 200 OK"),
    bad("partial status line at EOF", "HTTP/1.1 200", "HTTP/1.1 200"),
    bad("partial HTTP prefix at EOF", "HTT", "HTT"),
    unknown("HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", "HTTP/2.0"),
    unknown("HTTP/2", "HTTP/2 200 OK\r\n\r\n", "HTTP/2"),
    unknown("HTTP/0.8", "HTTP/0.8 200 OK\r\n\r\n", "HTTP/0.8"),
    unknown("HTTP/1 without minor", "HTTP/1 200 OK\r\n\r\n", "HTTP/1"),
    unknown("HTTP/10.0", "HTTP/10.0 200 OK\r\n\r\n", "HTTP/10.0"),
    unknown("HTTP/3.0", "HTTP/3.0 200 OK\r\n\r\n", "HTTP/3.0"),
    unknown("HTTP/ with empty version", "HTTP/ 200 OK\r\n\r\n", "HTTP/"),
    { name: "EOF before any byte: RemoteDisconnected", input: "", events: [E("RemoteDisconnected")] },
    { name: "EOF after blank lines: RemoteDisconnected", input: "\r\n\r\n\n", events: [E("RemoteDisconnected")] },
    {
      name: "EOF in the headers: IncompleteRead",
      input: "HTTP/1.1 200 OK\r\nContent-Le",
      events: [E("IncompleteRead", { expected: undefined })]
    },
    {
      name: "EOF right after the status line: IncompleteRead",
      input: "HTTP/1.1 200 OK\r\n",
      events: [E("IncompleteRead", { expected: undefined })]
    },
    {
      name: "EOF after a header line, before the blank line",
      input: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
      events: [E("IncompleteRead", { expected: undefined })]
    },
    {
      name: "EOF after CR of the final blank line",
      input: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r",
      events: [E("IncompleteRead", { expected: undefined })]
    }
  ])
})

describe("header fields", () => {
  const h = (name: string, fields: string, headers: ReadonlyArray<string>): Case => ({
    name,
    input: `HTTP/1.1 200 OK\r\n${fields}Content-Length: 0\r\n\r\n`,
    events: [H(200, "OK", [...headers, "Content-Length", "0"], { contentLength: 0 }), END()]
  })
  const bad = (name: string, fields: string): Case => ({
    name,
    input: `HTTP/1.1 200 OK\r\n${fields}Content-Length: 0\r\n\r\n`,
    events: [E("InvalidHeader", { side: "response" })]
  })
  runCases([
    h("value OWS trimmed", "X:   a b  \r\n", ["X", "a b"]),
    h("value tabs trimmed", "X:\t\ta\t\r\n", ["X", "a"]),
    h("no whitespace after the colon", "X:a\r\n", ["X", "a"]),
    h("empty value", "X:\r\n", ["X", ""]),
    h("whitespace-only value", "X: \t \r\n", ["X", ""]),
    h("inner whitespace kept", "X: a  \t b\r\n", ["X", "a  \t b"]),
    h("obs-text in value", "X: caf\xe9 \x80\xff\r\n", ["X", "caf\xe9 \x80\xff"]),
    h("colons in value", "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n", ["Date", "Mon, 01 Jan 2024 00:00:00 GMT"]),
    h("repeated fields kept in order with their case", "Set-Cookie: a=1\r\nset-cookie: b=2\r\nSET-COOKIE: c=3\r\n", [
      "Set-Cookie", "a=1", "set-cookie", "b=2", "SET-COOKIE", "c=3"
    ]),
    h("every tchar in a name", "!#$%&'*+-.^_`|~09AZaz: v\r\n", ["!#$%&'*+-.^_`|~09AZaz", "v"]),
    h("quotes and backslashes in a value", 'X: "a\\"b"\r\n', ["X", '"a\\"b"']),
    h("one-character name", "x: 1\r\n", ["x", "1"]),
    h("bare LF after a field", "X: 1\nY: 2\n", ["X", "1", "Y", "2"]),
    h("obs-fold joined with one space", "X: a\r\n b\r\n", ["X", "a b"]),
    h("obs-fold with tabs and spaces trimmed", "X: a \r\n\t \t b \r\n", ["X", "a b"]),
    h("several obs-folds", "X: a\r\n b\r\n  c\r\n\td\r\n", ["X", "a b c d"]),
    h("obs-fold on an empty value", "X:\r\n b\r\n", ["X", "b"]),
    h("obs-fold with only whitespace", "X: a\r\n   \r\n", ["X", "a"]),
    h("obs-fold with bare LF", "X: a\n b\n", ["X", "a b"]),
    h("obs-fold continues the last field only", "X: 1\r\nY: 2\r\n 3\r\n", ["X", "1", "Y", "2 3"]),
    h("obs-fold cannot create a field", "Foo: bar\r\n Content-Length: 5\r\n", ["Foo", "bar Content-Length: 5"]),
    h("long value", "X: " + "v".repeat(1000) + "\r\n", ["X", "v".repeat(1000)]),
    bad("space before the colon", "X : y\r\n"),
    bad("tab before the colon", "X\t: y\r\n"),
    bad("space before the colon of Content-Length", "Content-Length : 5\r\n"),
    bad("empty name", ": y\r\n"),
    bad("no colon", "Foo\r\n"),
    bad("no colon, bare LF", "Foo\n"),
    bad("parenthesis in the name", "X(1): y\r\n"),
    bad("slash in the name", "X/Y: y\r\n"),
    bad("NUL in the name", "X\x00: y\r\n"),
    bad("non-ASCII in the name", "X\xe9: y\r\n"),
    bad("DEL in the name", "X\x7f: y\r\n"),
    bad("NUL in the value", "X: a\x00b\r\n"),
    bad("SOH in the value", "X: a\x01b\r\n"),
    bad("VT in the value", "X: \x0bb\r\n"),
    bad("FF in the value", "X: \x0cb\r\n"),
    bad("ESC in the value", "X: a\x1b\r\n"),
    bad("DEL in the value", "X: a\x7fb\r\n"),
    bad("bare CR in the value", "X: a\rb\r\n"),
    bad("bare CR at the end of a value", "X: y\r\r\n"),
    bad("bare CR as a line", "\rX: y\r\n"),
    bad("LF inside a value splits the line into a field without colon", "X: a\nb\r\n"),
    bad("obs-fold before the first field", " X: y\r\n"),
    bad("obs-fold (tab) before the first field", "\tX: y\r\n"),
    {
      name: "bare CR after a field ending the head",
      input: "HTTP/1.1 200 OK\r\nX: y\r\n\rContent-Length: 5\r\n\r\nhello",
      events: [E("InvalidHeader", { side: "response" })]
    },
    {
      name: "obs-fold right after the status line is refused",
      input: "HTTP/1.1 200 OK\r\n Transfer-Encoding: chunked\r\n\r\n",
      events: [E("InvalidHeader", { side: "response" })]
    },
    {
      name: "obs-fold turning Content-Length into a bad value",
      input: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n 6\r\n\r\nhello",
      events: [E("InvalidContentLength")]
    },
    {
      name: "obs-fold turning Transfer-Encoding into an unknown one",
      input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n identity\r\n\r\n0\r\n\r\n",
      events: [E("UnknownTransferEncoding", { value: "chunked identity" })]
    }
  ])
})

describe("limits in the head", () => {
  runCases([
    {
      name: "status line at the line limit",
      // "HTTP/1.1 200 " is 13 bytes; a 7-byte reason makes 20
      input: "HTTP/1.1 200 abcdefg\r\nContent-Length: 0\r\n\r\n",
      limits: { maxLineSize: 20 },
      events: [H(200, "abcdefg", ["Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "status line at the line limit with bare LF",
      input: "HTTP/1.1 200 abcdefg\nContent-Length: 0\n\n",
      limits: { maxLineSize: 20 },
      events: [H(200, "abcdefg", ["Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "status line one over the line limit",
      input: "HTTP/1.1 200 abcdefgh\r\nContent-Length: 0\r\n\r\n",
      limits: { maxLineSize: 20 },
      events: [E("LineTooLong", { what: "status line", limit: 20 })]
    },
    {
      name: "endless status line fails at the limit without EOF",
      input: "HTTP/1.1 200 " + "x".repeat(40),
      eof: false,
      limits: { maxLineSize: 20 },
      events: [E("LineTooLong", { what: "status line", limit: 20 })]
    },
    {
      name: "status line over the limit ending in a bare CR",
      input: "HTTP/1.1 200 abcdefg\r\rxx\r\n\r\n",
      limits: { maxLineSize: 20 },
      events: [E("LineTooLong", { what: "status line", limit: 20 })]
    },
    {
      name: "header line at the line limit",
      input: "HTTP/1.1 200 OK\r\nX-Header-Abc: 123456\r\nContent-Length: 0\r\n\r\n",
      limits: { maxLineSize: 20 },
      events: [H(200, "OK", ["X-Header-Abc", "123456", "Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "header line at the line limit, bare LF",
      input: "HTTP/1.1 200 OK\nX-Header-Abc: 123456\nContent-Length: 0\n\n",
      limits: { maxLineSize: 20 },
      events: [H(200, "OK", ["X-Header-Abc", "123456", "Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "header line one over the line limit",
      input: "HTTP/1.1 200 OK\r\nX-Header-Abc: 1234567\r\nContent-Length: 0\r\n\r\n",
      limits: { maxLineSize: 20 },
      events: [E("LineTooLong", { what: "header line", limit: 20 })]
    },
    {
      name: "header name alone over the line limit",
      input: "HTTP/1.1 200 OK\r\n" + "X".repeat(25) + ": 1\r\n\r\n",
      limits: { maxLineSize: 20 },
      events: [E("LineTooLong", { what: "header line", limit: 20 })]
    },
    {
      name: "endless header line fails at the limit without EOF",
      input: "HTTP/1.1 200 OK\r\nX: " + "y".repeat(100),
      eof: false,
      limits: { maxLineSize: 20 },
      events: [E("LineTooLong", { what: "header line", limit: 20 })]
    },
    {
      name: "endless obs-fold fails at the limit",
      input: "HTTP/1.1 200 OK\r\nX: y\r\n " + "z".repeat(100),
      eof: false,
      limits: { maxLineSize: 20 },
      events: [E("LineTooLong", { what: "header line", limit: 20 })]
    },
    {
      name: "default line limit: 65,536 accepted",
      input: "HTTP/1.1 200 OK\r\nX: " + "a".repeat(65_533) + "\r\nContent-Length: 0\r\n\r\n",
      events: [H(200, "OK", ["X", "a".repeat(65_533), "Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "head at the head limit",
      // 17 + 11 + 2 = 30 bytes
      input: "HTTP/1.1 200 OK\r\nA: 123456\r\n\r\n",
      limits: { maxHeadSize: 30 },
      events: [H(200, "OK", ["A", "123456"], { framing: "close", keepAlive: false }), END()]
    },
    {
      name: "head one over the head limit",
      input: "HTTP/1.1 200 OK\r\nA: 1234567\r\n\r\n",
      limits: { maxHeadSize: 30 },
      events: [E("LineTooLong", { what: "head", limit: 30 })]
    },
    {
      name: "head limit counts the blank lines before the status line",
      input: "\r\n\r\nHTTP/1.1 200 OK\r\nA: 12345\r\n\r\n",
      limits: { maxHeadSize: 30 },
      events: [E("LineTooLong", { what: "head", limit: 30 })]
    },
    {
      name: "endless blank lines fail at the head limit",
      input: "\r\n".repeat(40),
      eof: false,
      limits: { maxHeadSize: 30 },
      events: [E("LineTooLong", { what: "head", limit: 30 })]
    },
    {
      name: "many short headers exceed the head limit",
      input: "HTTP/1.1 200 OK\r\n" + "A: b\r\n".repeat(20),
      eof: false,
      limits: { maxHeadSize: 60 },
      events: [E("LineTooLong", { what: "head", limit: 60 })]
    },
    {
      name: "header count at the limit",
      input: "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n",
      limits: { maxHeaders: 3 },
      events: [H(200, "OK", ["A", "1", "B", "2", "Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "header count over the limit",
      input: "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 0\r\n\r\n",
      limits: { maxHeaders: 3 },
      events: [E("TooManyHeaders", { what: "headers", limit: 3 })]
    },
    {
      name: "obs-folds do not count as fields",
      input: "HTTP/1.1 200 OK\r\nA: 1\r\n 2\r\n 3\r\nContent-Length: 0\r\n\r\n",
      limits: { maxHeaders: 2 },
      events: [H(200, "OK", ["A", "1 2 3", "Content-Length", "0"], { contentLength: 0 }), END()]
    },
    {
      name: "default: 100 headers accepted",
      input: "HTTP/1.1 200 OK\r\n" + Array.from({ length: 99 }, (_, i) => `H${i}: ${i}\r\n`).join("") + "Content-Length: 0\r\n\r\n",
      events: [
        H(200, "OK", [...Array.from({ length: 99 }, (_, i) => [`H${i}`, `${i}`]).flat(), "Content-Length", "0"], {
          contentLength: 0
        }),
        END()
      ]
    },
    {
      name: "default: 101 headers refused (Python's limit)",
      input: "HTTP/1.1 200 OK\r\n" + Array.from({ length: 101 }, (_, i) => `H${i}: ${i}\r\n`).join("") + "\r\n",
      events: [E("TooManyHeaders", { what: "headers", limit: 100 })]
    },
    {
      name: "too many headers without end fails as they arrive",
      input: "HTTP/1.1 200 OK\r\n" + "A: b\r\n".repeat(10),
      eof: false,
      limits: { maxHeaders: 5 },
      events: [E("TooManyHeaders", { what: "headers", limit: 5 })]
    }
  ])
})
