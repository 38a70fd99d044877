import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as H from "../src/Headers.js"
import { InvalidHeader } from "../src/Http1Error.js"

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
    expect(H.fromInput).toBe(Headers.fromInput)
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

describe("Headers.fromInput (input from plain JavaScript)", () => {
  const pairsOf = (r: H.Headers | InvalidHeader): Array<[string, string]> => {
    if (!(r instanceof Headers)) throw new Error(`expected headers, got ${r.message}`)
    return r.pairs()
  }
  const errorOf = (r: H.Headers | InvalidHeader): InvalidHeader => {
    if (!(r instanceof InvalidHeader)) throw new Error(`expected InvalidHeader, got ${String(r)}`)
    expect(r._tag).toBe("InvalidHeader")
    expect(r.side).toBe("request")
    expect(r.reason.length).toBeGreaterThan(0)
    return r
  }

  it("what from takes it takes the same way", () => {
    const h = Headers.fromPairs([["A", "1"]])
    expect(Headers.fromInput(h)).toBe(h)
    expect(Headers.fromInput(undefined)).toBe(Headers.empty)
    expect(Headers.fromInput(null)).toBe(Headers.empty)
    expect(pairsOf(Headers.fromInput([["A", "1"], ["a", "2"]]))).toEqual([["A", "1"], ["a", "2"]])
    expect(pairsOf(Headers.fromInput(new Map([["A", "1"], ["B", "2"]])))).toEqual([["A", "1"], ["B", "2"]])
    expect(pairsOf(Headers.fromInput({ Accept: "x", "Set-Cookie": ["a=1", "b=2"], Skip: undefined, Empty: [] }))).toEqual([
      ["Accept", "x"],
      ["Set-Cookie", "a=1"],
      ["Set-Cookie", "b=2"]
    ])
    function* gen(): Generator<readonly [string, string]> {
      yield ["G", "1"]
    }
    expect(pairsOf(Headers.fromInput(gen()))).toEqual([["G", "1"]])
    const bare = Object.create(null) as Record<string, unknown>
    bare["X"] = "y"
    expect(pairsOf(Headers.fromInput(bare))).toEqual([["X", "y"]])
    expect(pairsOf(Headers.fromInput(JSON.parse('{"__proto__":"p"}')))).toEqual([["__proto__", "p"]])
  })

  it("integers are written in decimal, arrays give repeated fields", () => {
    expect(pairsOf(Headers.fromInput({ "x-a": 1, "x-b": -20, "x-c": 0, "x-d": 12345678901234567890n }))).toEqual([
      ["x-a", "1"],
      ["x-b", "-20"],
      ["x-c", "0"],
      ["x-d", "12345678901234567890"]
    ])
    expect(pairsOf(Headers.fromInput({ "x-a": ["a", 2, 3n] }))).toEqual([["x-a", "a"], ["x-a", "2"], ["x-a", "3"]])
    expect(pairsOf(Headers.fromInput([["x-a", 7]]))).toEqual([["x-a", "7"]])
    expect(pairsOf(Headers.fromInput(new Map<string, unknown>([["x-a", 7], ["x-b", ["p", "q"]]])))).toEqual([["x-a", "7"], ["x-b", "p"], ["x-b", "q"]])
  })

  it("a bad value is an InvalidHeader naming the field", () => {
    const bad: Array<unknown> = [null, {}, true, 1.5, NaN, Infinity, -Infinity, 2 ** 53, Symbol("s"), () => "v", [["a"]], [null], [{}], new Date(0), new Uint8Array(1)]
    for (const value of bad) {
      const e = errorOf(Headers.fromInput({ "x-a": value }))
      expect(e.header).toBe("x-a")
      expect(typeof e.message).toBe("string")
      expect(errorOf(Headers.fromInput([["x-b", value]])).header).toBe("x-b")
    }
    expect(errorOf(Headers.fromInput({ ok: "1", "x-a": null })).reason).toContain("null")
    expect(errorOf(Headers.fromInput({ "x-a": {} })).reason).toContain("object")
    expect(errorOf(Headers.fromInput({ "x-a": 1.5 })).reason).toContain("1.5")
  })

  it("bad input shapes are an InvalidHeader", () => {
    const bad: Array<unknown> = [
      "Accept: x",
      "",
      0,
      42,
      true,
      10n,
      Symbol("h"),
      () => ({}),
      new Date(0),
      /x/,
      new Error("e"),
      Promise.resolve(),
      [["A"]],
      [["A", "1", "2"]],
      ["A", "1"],
      [[1, "x"]],
      [[null, "x"]],
      [[Symbol("n"), "x"]],
      [[["A"], "x"]],
      [null],
      new Set(["A"]),
      new Map<unknown, string>([[1, "x"]])
    ]
    for (const input of bad) {
      const e = errorOf(Headers.fromInput(input))
      expect(e.header).toBe("")
    }
  })

  it("a throwing getter, iterator or proxy is an InvalidHeader, not a throw", () => {
    const getter = Object.defineProperty({}, "X", { enumerable: true, get: () => { throw new Error("boom") } })
    const iterator = { *[Symbol.iterator]() { yield ["A", "1"]; throw new Error("boom") } }
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    const trap = new Proxy({}, { ownKeys: () => { throw new Error("boom") } })
    for (const input of [getter, iterator, proxy, trap]) errorOf(Headers.fromInput(input))
  })

  it("property: never throws; gives Headers of strings or a request-side InvalidHeader", () => {
    const anything = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true
    })
    const records = fc.dictionary(fc.string({ maxLength: 6 }), anything, { maxKeys: 6 })
    const pairs = fc.array(fc.oneof(fc.tuple(fc.string({ maxLength: 6 }), anything), anything), { maxLength: 6 })
    fc.assert(
      fc.property(fc.oneof(anything, records, pairs), (input) => {
        const r = Headers.fromInput(input)
        if (r instanceof InvalidHeader) {
          expect(r.side).toBe("request")
          expect(typeof r.header).toBe("string")
          expect(typeof r.message).toBe("string")
        } else {
          expect(r).toBeInstanceOf(Headers)
          for (const x of r.raw) expect(typeof x).toBe("string")
          expect(r.raw.length % 2).toBe(0)
        }
      }),
      { numRuns: 1000 }
    )
  })

  it("property: on typed input it agrees with from", () => {
    const value = fc.oneof(fc.string({ maxLength: 5 }), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), fc.constant(undefined))
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), value, { maxKeys: 6 }), (record) => {
        expect(pairsOf(Headers.fromInput(record))).toEqual(Headers.from(record).pairs())
      })
    )
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })), { maxLength: 6 }), (list) => {
        expect(pairsOf(Headers.fromInput(list))).toEqual(Headers.from(list).pairs())
      })
    )
  })
})
