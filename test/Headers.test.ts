import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as H from "../src/Headers.js"

const { Headers } = H

describe("Headers", () => {
  const h = Headers.fromPairs([
    ["Content-Type", "text/plain"],
    ["Set-Cookie", "a=1"],
    ["X-Empty", ""],
    ["set-cookie", "b=2"],
    ["SET-COOKIE", "c=3"]
  ])

  it("keeps order and original case when iterated", () => {
    expect([...h]).toEqual([
      ["Content-Type", "text/plain"],
      ["Set-Cookie", "a=1"],
      ["X-Empty", ""],
      ["set-cookie", "b=2"],
      ["SET-COOKIE", "c=3"]
    ])
    expect(h.keys()).toEqual(["Content-Type", "Set-Cookie", "X-Empty", "set-cookie", "SET-COOKIE"])
    expect(h.pairs()).toEqual([...h])
    expect(h.raw).toEqual(["Content-Type", "text/plain", "Set-Cookie", "a=1", "X-Empty", "", "set-cookie", "b=2", "SET-COOKIE", "c=3"])
    expect(h.size).toBe(5)
  })

  it("get is case-insensitive and joins repeats with \", \"", () => {
    expect(h.get("content-type")).toBe("text/plain")
    expect(h.get("CONTENT-TYPE")).toBe("text/plain")
    expect(h.get("Set-Cookie")).toBe("a=1, b=2, c=3")
    expect(h.get("x-empty")).toBe("")
    expect(h.get("missing")).toBeUndefined()
  })

  it("getAll is case-insensitive, in order received", () => {
    expect(h.getAll("set-COOKIE")).toEqual(["a=1", "b=2", "c=3"])
    expect(h.getAll("content-type")).toEqual(["text/plain"])
    expect(h.getAll("missing")).toEqual([])
  })

  it("has is case-insensitive, also for empty values", () => {
    expect(h.has("x-EMPTY")).toBe(true)
    expect(h.has("SET-cookie")).toBe(true)
    expect(h.has("missing")).toBe(false)
    expect(h.has("")).toBe(false)
  })

  it("names that are Object.prototype members are plain names", () => {
    const p = Headers.fromPairs([["constructor", "c"], ["__proto__", "p"], ["toString", "t"], ["hasOwnProperty", "o"]])
    expect(p.get("constructor")).toBe("c")
    expect(p.get("__proto__")).toBe("p")
    expect(p.get("toString")).toBe("t")
    expect(Headers.empty.get("constructor")).toBeUndefined()
    expect(Headers.empty.has("__proto__")).toBe(false)
    const rec = p.toRecord()
    expect(Object.keys(rec)).toEqual(["constructor", "__proto__", "tostring", "hasownproperty"])
    expect(rec["__proto__"]).toBe("p")
    expect(Object.getPrototypeOf(rec)).toBe(Object.prototype)
  })

  it("toRecord lower-cases names and joins repeats", () => {
    expect(h.toRecord()).toEqual({ "content-type": "text/plain", "set-cookie": "a=1, b=2, c=3", "x-empty": "" })
  })

  it("toString renders field lines; toJSON gives pairs", () => {
    expect(Headers.fromPairs([["A", "1"], ["b", "2"]]).toString()).toBe("A: 1\r\nb: 2\r\n")
    expect(JSON.parse(JSON.stringify(Headers.fromPairs([["A", "1"]])))).toEqual([["A", "1"]])
  })

  it("from: pairs, Map, record with arrays and undefined, Headers, undefined", () => {
    expect([...Headers.from([["A", "1"], ["a", "2"]])]).toEqual([["A", "1"], ["a", "2"]])
    expect([...Headers.from(new Map([["A", "1"], ["B", "2"]]))]).toEqual([["A", "1"], ["B", "2"]])
    expect([...Headers.from({ Accept: "x", "Set-Cookie": ["a=1", "b=2"], Skip: undefined, Empty: [] })]).toEqual([
      ["Accept", "x"],
      ["Set-Cookie", "a=1"],
      ["Set-Cookie", "b=2"]
    ])
    expect(Headers.from(h)).toBe(h)
    expect(Headers.from(undefined)).toBe(Headers.empty)
    expect(Headers.from(undefined).size).toBe(0)
    function* gen(): Generator<readonly [string, string]> {
      yield ["G", "1"]
    }
    expect([...Headers.from(gen())]).toEqual([["G", "1"]])
  })

  it("fromRaw wraps the flat array", () => {
    const raw = ["Host", "h", "Accept", "*/*"]
    const w = Headers.fromRaw(raw)
    expect(w.raw).toBe(raw)
    expect(w.get("host")).toBe("h")
    expect([...w]).toEqual([["Host", "h"], ["Accept", "*/*"]])
  })

  it("module-level aliases", () => {
    expect(H.fromPairs).toBe(Headers.fromPairs)
    expect(H.from).toBe(Headers.from)
    expect(H.fromRaw).toBe(Headers.fromRaw)
    expect(H.empty).toBe(Headers.empty)
    expect([...H.empty]).toEqual([])
  })

  it("iteration can be repeated and lookups do not change it", () => {
    const x = Headers.fromPairs([["A", "1"]])
    expect([...x]).toEqual([...x])
    x.get("a")
    expect([...x]).toEqual([["A", "1"]])
  })

  it("property: get/getAll/has agree with a naive scan, in any case", () => {
    const name = fc.constantFrom("A", "a", "Content-Type", "content-type", "X-Y", "x-y", "Set-Cookie", "SET-COOKIE")
    const value = fc.string({ maxLength: 5 })
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 12 }), name, (pairs, q) => {
        const hs = Headers.fromPairs(pairs)
        const matching = pairs.filter(([n]) => n.toLowerCase() === q.toLowerCase()).map(([, v]) => v)
        expect(hs.getAll(q)).toEqual(matching)
        expect(hs.has(q)).toBe(matching.length > 0)
        expect(hs.get(q)).toBe(matching.length === 0 ? undefined : matching.join(", "))
        expect([...hs]).toEqual(pairs)
      })
    )
  })
})
