/**
 * Response parser: API behaviour that the byte tables do not show (zero copy, buffering, state,
 * stickiness, reset, upgrade hand-over, linear cost of long lines).
 */
import { Buffer } from "node:buffer"
import { describe, expect, it } from "vitest"
import type { ParserEvent } from "../../src/protocol/events.js"
import { defaultLimits } from "../../src/protocol/events.js"
import { parseResponse, ResponseParser } from "../../src/protocol/ResponseParser.js"

const b = (s: string) => Buffer.from(s, "latin1")
const drain = (p: ResponseParser): Array<ParserEvent> => {
  const out: Array<ParserEvent> = []
  for (let k = 0; k < 10_000; k++) {
    const ev = p.next()
    if (ev._tag === "NeedData") return out
    out.push(ev)
    if (ev._tag === "Error") return out
  }
  throw new Error("no progress")
}
const text = (evs: ReadonlyArray<ParserEvent>) =>
  evs.map((e) => (e._tag === "Data" ? Buffer.from(e.bytes).toString("latin1") : "")).join("")

describe("ResponseParser API", () => {
  it("Data events are subarrays of the fed buffers (Buffer input)", () => {
    const p = new ResponseParser()
    p.expect("GET")
    const head = b("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
    const body = b("0123456789")
    p.feed(head)
    expect(drain(p).map((e) => e._tag)).toEqual(["Head"])
    p.feed(body)
    const evs = drain(p)
    expect(evs.map((e) => e._tag)).toEqual(["Data", "End"])
    const d = evs[0]!
    if (d._tag !== "Data") throw new Error()
    expect(d.bytes.buffer).toBe(body.buffer)
    expect(d.bytes.byteOffset).toBe(body.byteOffset)
  })

  it("Data events are views of a fed plain Uint8Array, also after the head in the same chunk", () => {
    const p = new ResponseParser()
    p.expect("GET")
    const all = new Uint8Array(b("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"))
    p.feed(all)
    const evs = drain(p)
    const d = evs.find((e) => e._tag === "Data")
    if (d === undefined || d._tag !== "Data") throw new Error()
    expect(d.bytes.buffer).toBe(all.buffer)
    expect(d.bytes.byteOffset).toBe(all.length - 3)
  })

  it("chunked Data events are views of the fed buffer, even when the head straddled chunks", () => {
    const p = new ResponseParser()
    p.expect("GET")
    p.feed(b("HTTP/1.1 200 OK\r\nTransfer-En"))
    const second = b("coding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    p.feed(second)
    const evs = drain(p)
    expect(evs.map((e) => e._tag)).toEqual(["Head", "Data", "End"])
    const d = evs[1]!
    if (d._tag !== "Data") throw new Error()
    expect(d.bytes.buffer).toBe(second.buffer)
    expect(Buffer.from(d.bytes).toString()).toBe("hello")
  })

  it("without an expected method: NeedData, bytes stay buffered, state idle", () => {
    const p = new ResponseParser()
    p.feed(b("HTTP/1.1 200 OK\r\n"))
    expect(p.next()._tag).toBe("NeedData")
    expect(p.bufferedLength).toBe(17)
    expect(p.state).toBe("idle")
    p.expect("GET")
    p.feed(b("Content-Length: 0\r\n\r\n"))
    expect(drain(p).map((e) => e._tag)).toEqual(["Head", "End"])
    expect(p.bufferedLength).toBe(0)
  })

  it("unsolicited bytes on an idle parser show in bufferedLength (poisoned connection)", () => {
    const p = new ResponseParser()
    p.expect("GET")
    p.feed(b("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n"))
    expect(drain(p).map((e) => e._tag)).toEqual(["Head", "End"])
    expect(p.state).toBe("idle")
    expect(p.bufferedLength).toBe(17)
  })

  it("state goes idle → head → body → idle", () => {
    const p = new ResponseParser()
    expect(p.state).toBe("idle")
    p.expect("GET")
    p.feed(b("HTTP/1.1 200 OK\r\nContent-"))
    expect(p.next()._tag).toBe("NeedData")
    expect(p.state).toBe("head")
    p.feed(b("Length: 4\r\n\r\nab"))
    expect(p.next()._tag).toBe("Head")
    expect(p.state).toBe("body")
    expect(p.next()._tag).toBe("Data")
    expect(p.next()._tag).toBe("NeedData")
    expect(p.state).toBe("body")
    p.feed(b("cd"))
    expect(p.next()._tag).toBe("Data")
    expect(p.next()._tag).toBe("End")
    expect(p.state).toBe("idle")
  })

  it("expect() after End, connection style", () => {
    const p = new ResponseParser()
    const one = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
    p.feed(b(one + one))
    p.expect("GET")
    expect(drain(p).map((e) => e._tag)).toEqual(["Head", "Data", "End"])
    expect(p.next()._tag).toBe("NeedData")
    p.expect("GET")
    expect(drain(p).map((e) => e._tag)).toEqual(["Head", "Data", "End"])
  })

  it("the error state is sticky and returns the same event", () => {
    const p = new ResponseParser()
    p.expect("GET")
    p.feed(b("HTTP/1.1 20 OK\r\n\r\n"))
    const e1 = p.next()
    expect(e1._tag).toBe("Error")
    p.feed(b("HTTP/1.1 200 OK\r\n\r\n"))
    p.expect("GET")
    p.feedEof()
    expect(p.next()).toBe(e1)
    expect(p.next()).toBe(e1)
    expect(p.state).toBe("error")
    if (e1._tag === "Error") {
      expect(e1.error._tag).toBe("BadStatusLine")
      expect(e1.error.message).toContain("HTTP/1.1 20 OK")
    }
  })

  it("TLS bytes fail at once, before a line end", () => {
    const p = new ResponseParser()
    p.expect("GET")
    p.feed(new Uint8Array([0x16, 0x03]))
    const ev = p.next()
    expect(ev._tag).toBe("Error")
    if (ev._tag === "Error") expect(ev.error._tag).toBe("BadStatusLine")
  })

  it("reset() clears the error, buffers, expectations and EOF", () => {
    const p = new ResponseParser()
    p.expect("GET")
    p.feed(b("garbage"))
    p.feedEof()
    expect(p.next()._tag).toBe("Error")
    p.reset()
    expect(p.state).toBe("idle")
    expect(p.eof).toBe(false)
    expect(p.bufferedLength).toBe(0)
    expect(p.next()._tag).toBe("NeedData")
    p.expect("GET")
    p.feed(b("HTTP/1.1 204 No Content\r\n\r\n"))
    expect(drain(p).map((e) => e._tag)).toEqual(["Head", "End"])
  })

  it("eof reflects feedEof", () => {
    const p = new ResponseParser()
    expect(p.eof).toBe(false)
    p.feedEof()
    expect(p.eof).toBe(true)
  })

  it("takeBuffered after a 101 returns every later byte, across feeds, and empties the buffer", () => {
    const p = new ResponseParser()
    p.expect("GET")
    p.feed(b("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\nAB"))
    p.feed(b("CD"))
    const evs = drain(p)
    expect(evs.map((e) => e._tag)).toEqual(["Head", "End"])
    const h = evs[0]!
    if (h._tag === "Head") expect([h.upgrade, h.keepAlive, h.framing]).toEqual([true, false, "none"])
    expect(p.state).toBe("upgraded")
    p.feed(b("EF"))
    expect(p.next()._tag).toBe("NeedData")
    expect(p.bufferedLength).toBe(6)
    expect(Buffer.from(p.takeBuffered()).toString()).toBe("ABCDEF")
    expect(p.bufferedLength).toBe(0)
    expect(p.takeBuffered().length).toBe(0)
  })

  it("CONNECT 200: tunnel bytes arriving in the head's chunk are handed over", () => {
    const p = new ResponseParser()
    p.expect("CONNECT")
    p.feed(b("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x00"))
    expect(drain(p).map((e) => e._tag)).toEqual(["Head", "End"])
    expect(Buffer.from(p.takeBuffered()).toString("latin1")).toBe("\x16\x03\x01\x00")
  })

  it("feeding an empty array is a no-op", () => {
    const p = new ResponseParser()
    p.expect("GET")
    p.feed(new Uint8Array(0))
    expect(p.bufferedLength).toBe(0)
    expect(p.next()._tag).toBe("NeedData")
  })

  it("the Head's headers array is not changed by later heads", () => {
    const p = new ResponseParser()
    p.expect("GET")
    p.feed(b("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nA: 1\r\nContent-Length: 0\r\n\r\n"))
    const evs = drain(p)
    const heads = evs.filter((e) => e._tag === "Head")
    expect(heads.map((h) => (h._tag === "Head" ? h.headers : []))).toEqual([["Link", "</a>"], ["A", "1", "Content-Length", "0"]])
  })

  it("defaults are the documented ones", () => {
    expect(defaultLimits).toEqual({
      maxLineSize: 65_536,
      maxHeadSize: 262_144,
      maxHeaders: 100,
      maxTrailers: 100,
      maxInterimResponses: 100,
      maxChunkExtensionSize: 4_096
    })
  })

  it("a 64 KiB header line fed one byte at a time costs linear time", () => {
    const p = new ResponseParser()
    p.expect("GET")
    const msg = b("HTTP/1.1 200 OK\r\nX: " + "v".repeat(65_000) + "\r\nContent-Length: 0\r\n\r\n")
    const t = performance.now()
    const evs: Array<ParserEvent> = []
    for (let i = 0; i < msg.length; i++) {
      p.feed(msg.subarray(i, i + 1))
      evs.push(...drain(p))
    }
    expect(evs.map((e) => e._tag)).toEqual(["Head", "End"])
    expect(performance.now() - t).toBeLessThan(3_000)
  })

  it("a 64 KiB status line fed one byte at a time costs linear time", () => {
    const p = new ResponseParser()
    p.expect("GET")
    const msg = b("HTTP/1.1 200 " + "r".repeat(65_000) + "\r\nContent-Length: 0\r\n\r\n")
    const t = performance.now()
    const evs: Array<ParserEvent> = []
    for (let i = 0; i < msg.length; i++) {
      p.feed(msg.subarray(i, i + 1))
      evs.push(...drain(p))
    }
    expect(evs.map((e) => e._tag)).toEqual(["Head", "End"])
    expect(performance.now() - t).toBeLessThan(3_000)
  })

  it("an endless header line with the default limit fails at 64 KiB, not later", () => {
    const p = new ResponseParser()
    p.expect("GET")
    p.feed(b("HTTP/1.1 200 OK\r\nX: "))
    const piece = b("a".repeat(1024))
    let fed = 0
    let ev: ParserEvent = p.next()
    while (ev._tag === "NeedData" && fed < 1_000_000) {
      p.feed(piece)
      fed += piece.length
      ev = p.next()
    }
    expect(ev._tag).toBe("Error")
    if (ev._tag === "Error") expect(ev.error).toMatchObject({ _tag: "LineTooLong", what: "header line", limit: 65_536 })
    expect(fed).toBeLessThan(65_536 + 2048)
  })

  it("a 1 MiB body in many small pieces comes out whole", () => {
    const body = Buffer.alloc(1 << 20)
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff
    const p = new ResponseParser()
    p.expect("GET")
    const msg = Buffer.concat([b(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body])
    const parts: Array<Uint8Array> = []
    for (let i = 0; i < msg.length; i += 1000) {
      p.feed(msg.subarray(i, i + 1000))
      for (const e of drain(p)) if (e._tag === "Data") parts.push(e.bytes)
    }
    expect(Buffer.concat(parts).equals(body)).toBe(true)
  })

  it("parseResponse: string or bytes, default GET, stops at End", () => {
    const evs = parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\n\r\n")
    expect(evs.map((e) => e._tag)).toEqual(["Head", "Data", "End"])
    expect(text(evs)).toBe("hi")
    const head = parseResponse(b("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"), "HEAD")
    expect(head.map((e) => e._tag)).toEqual(["Head", "End"])
    const limited = parseResponse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", "GET", { maxHeaders: 1 })
    expect(limited.map((e) => (e._tag === "Error" ? e.error._tag : e._tag))).toEqual(["TooManyHeaders"])
    expect(parseResponse("").map((e) => (e._tag === "Error" ? e.error._tag : e._tag))).toEqual(["RemoteDisconnected"])
  })

  it("IncompleteRead carries an empty partial and the missing byte count", () => {
    const evs = parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nabc")
    const last = evs[evs.length - 1]!
    if (last._tag !== "Error" || last.error._tag !== "IncompleteRead") throw new Error("expected IncompleteRead")
    expect(last.error.partial).toBeInstanceOf(Uint8Array)
    expect(last.error.partial.length).toBe(0)
    expect(last.error.expected).toBe(5)
  })
})
