import { InvalidHeader } from "./Http1Error.js"

/**
 * An ordered, case-insensitive multi-map of header fields that keeps each name as it was sent.
 *
 * Iterating yields `[name, value]` pairs in the order received. Lookups ignore case; `get` joins
 * repeated fields with `", "` as RFC 9110 §5.3 allows (and as Python's `getheader` does).
 *
 * Internally the fields stay in the flat `[name0, value0, name1, value1, ...]` array the parser
 * produced; a lower-cased index is built only when a lookup needs it.
 *
 * @example
 * ```ts
 * import { Headers } from "effect-http1"
 *
 * const h = Headers.fromPairs([["Set-Cookie", "a=1"], ["set-cookie", "b=2"]])
 * h.get("SET-COOKIE")    // "a=1, b=2"
 * h.getAll("set-cookie") // ["a=1", "b=2"]
 * [...h]                 // [["Set-Cookie", "a=1"], ["set-cookie", "b=2"]]
 * ```
 * @since 0.1.0
 */
export class Headers implements Iterable<readonly [string, string]> {
  /** Flat `[name, value, name, value, ...]`, names as sent. */
  readonly raw: ReadonlyArray<string>
  private index: Map<string, Array<string>> | undefined

  private constructor(raw: ReadonlyArray<string>) {
    this.raw = raw
  }

  /** Number of fields (repeated names counted each time). */
  get size(): number {
    return this.raw.length >>> 1
  }

  private lookup(): Map<string, Array<string>> {
    if (this.index !== undefined) return this.index
    const index = new Map<string, Array<string>>()
    const raw = this.raw
    for (let i = 0; i < raw.length; i += 2) {
      const key = raw[i]!.toLowerCase()
      const list = index.get(key)
      if (list === undefined) index.set(key, [raw[i + 1]!])
      else list.push(raw[i + 1]!)
    }
    this.index = index
    return index
  }

  /** The value of `name`, repeated fields joined with `", "`; `undefined` when absent. */
  get(name: string): string | undefined {
    const list = this.lookup().get(name.toLowerCase())
    if (list === undefined) return undefined
    return list.length === 1 ? list[0] : list.join(", ")
  }

  /** Every value of `name`, in order received. */
  getAll(name: string): ReadonlyArray<string> {
    return this.lookup().get(name.toLowerCase()) ?? []
  }

  /** Whether a field called `name` (any case) is present. */
  has(name: string): boolean {
    return this.lookup().has(name.toLowerCase())
  }

  /** `[name, value]` pairs in the order received, names as sent. */
  pairs(): Array<[string, string]> {
    const out: Array<[string, string]> = []
    for (let i = 0; i < this.raw.length; i += 2) out.push([this.raw[i]!, this.raw[i + 1]!])
    return out
  }

  /** Field names in the order received (repeats included). */
  keys(): Array<string> {
    const out: Array<string> = []
    for (let i = 0; i < this.raw.length; i += 2) out.push(this.raw[i]!)
    return out
  }

  /** A plain object keyed by lower-cased name; repeated fields joined with `", "`. */
  toRecord(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [k, v] of this.lookup()) {
      const joined = v.length === 1 ? v[0]! : v.join(", ")
      // plain assignment to "__proto__" would set the prototype (a string is ignored) and lose the field
      if (k === "__proto__") Object.defineProperty(out, k, { value: joined, enumerable: true, writable: true, configurable: true })
      else out[k] = joined
    }
    return out
  }

  *[Symbol.iterator](): Iterator<readonly [string, string]> {
    const raw = this.raw
    for (let i = 0; i < raw.length; i += 2) yield [raw[i]!, raw[i + 1]!] as const
  }

  toString(): string {
    let s = ""
    for (let i = 0; i < this.raw.length; i += 2) s += `${this.raw[i]}: ${this.raw[i + 1]}\r\n`
    return s
  }

  toJSON(): Array<[string, string]> {
    return this.pairs()
  }

  /** Wraps a flat `[name, value, ...]` array without copying it (the caller gives it up). */
  static fromRaw(raw: ReadonlyArray<string>): Headers {
    return new Headers(raw)
  }

  /** Builds headers from `[name, value]` pairs. */
  static fromPairs(pairs: Iterable<readonly [string, string]>): Headers {
    const raw: Array<string> = []
    for (const [k, v] of pairs) raw.push(k, v)
    return new Headers(raw)
  }

  /** Builds headers from a record (or a `[name, value]` iterable). */
  static from(input: HeadersInput | undefined): Headers {
    if (input === undefined) return Headers.empty
    if (input instanceof Headers) return input
    if (isIterable(input)) return Headers.fromPairs(input)
    const raw: Array<string> = []
    for (const k of Object.keys(input)) {
      const v = input[k]
      if (v === undefined) continue
      if (typeof v === "string") raw.push(k, v)
      else for (const item of v) raw.push(k, item)
    }
    return new Headers(raw)
  }

  /**
   * {@link from} for input that may come from plain JavaScript: takes any value and never throws.
   * Checks shapes and types only (the request encoder still checks the grammar of names and values).
   *
   * - `undefined` or `null`: no fields; a {@link Headers}: itself.
   * - A record (an object whose prototype is `Object.prototype` or `null`): each own enumerable
   *   string key is a name; an `undefined` value is skipped.
   * - Any other iterable object (an array of pairs, a `Map`, a fetch `Headers`, a generator):
   *   each item must be an array `[name, value]` of length 2 with a string name.
   * - A value is a string (kept as is); an integer `number` (a safe integer) or a `bigint`, written in
   *   decimal like Python's `str(int)`; or an array of those, one field each in order (`[]` adds none).
   * - Anything else (booleans, `null`, floats, `NaN`, objects, nested arrays, a string or a number
   *   as the whole input, a throwing iterator or getter) gives an `InvalidHeader` with
   *   `side: "request"`, the field name (`""` when the input itself or a name is wrong) and a reason.
   */
  static fromInput(input: unknown): Headers | InvalidHeader {
    try {
      if (input === undefined || input === null) return Headers.empty
      if (input instanceof Headers) return input
      if (typeof input !== "object") return invalid("", `headers must be a record or [name, value] pairs, not ${kindOf(input)}`)
      const raw: Array<string> = []
      if (Symbol.iterator in input) {
        for (const item of input as Iterable<unknown>) {
          if (!Array.isArray(item) || item.length !== 2) return invalid("", `a header pair must be [name, value], not ${kindOf(item)}`)
          const name: unknown = item[0]
          if (typeof name !== "string") return invalid("", `a header name must be a string, not ${kindOf(name)}`)
          const error = pushValue(raw, name, item[1])
          if (error !== undefined) return error
        }
        return new Headers(raw)
      }
      const proto: unknown = Object.getPrototypeOf(input)
      if (proto !== Object.prototype && proto !== null) {
        return invalid("", `headers must be a record or [name, value] pairs, not ${kindOf(input)}`)
      }
      const record = input as Record<string, unknown>
      for (const name of Object.keys(record)) {
        const value = record[name]
        if (value === undefined) continue
        const error = pushValue(raw, name, value)
        if (error !== undefined) return error
      }
      return new Headers(raw)
    } catch {
      // What was thrown may be anything (even a revoked Proxy): not inspected.
      return invalid("", "reading the headers threw")
    }
  }

  /** No fields. */
  static readonly empty: Headers = new Headers([])
}

/** What APIs taking headers accept: pairs, a record (arrays for repeats), or {@link Headers}. */
export type HeadersInput =
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  | Headers

const isIterable = (u: unknown): u is Iterable<readonly [string, string]> =>
  typeof u === "object" && u !== null && Symbol.iterator in u

const invalid = (header: string, reason: string): InvalidHeader => new InvalidHeader({ side: "request", header, reason })

/** What `u` is, for a message; never calls user code. */
const kindOf = (u: unknown): string => {
  if (u === null) return "null"
  if (Array.isArray(u)) return "an array"
  switch (typeof u) {
    case "string":
      return "a string"
    case "number":
      return Number.isInteger(u) ? `the number ${String(u)}` : `the non-integer number ${String(u)}`
    case "bigint":
      return "a bigint"
    case "boolean":
      return `the boolean ${String(u)}`
    case "undefined":
      return "undefined"
    case "symbol":
      return "a symbol"
    case "function":
      return "a function"
    default:
      return "an object"
  }
}

/** One field value (see {@link Headers.fromInput}): appended to `raw`, or the error. */
const pushValue = (raw: Array<string>, name: string, value: unknown): InvalidHeader | undefined => {
  if (Array.isArray(value)) {
    for (const item of value as ReadonlyArray<unknown>) {
      const scalar = scalarValue(item)
      if (scalar === undefined) return invalid(name, `a header value in an array must be a string or an integer, not ${kindOf(item)}`)
      raw.push(name, scalar)
    }
    return undefined
  }
  const scalar = scalarValue(value)
  if (scalar === undefined) return invalid(name, `a header value must be a string, an integer or an array of those, not ${kindOf(value)}`)
  raw.push(name, scalar)
  return undefined
}

const scalarValue = (value: unknown): string | undefined =>
  typeof value === "string"
    ? value
    : typeof value === "number"
    ? Number.isSafeInteger(value) ? String(value) : undefined
    : typeof value === "bigint"
    ? value.toString(10)
    : undefined

/** Builds headers from `[name, value]` pairs. */
export const fromPairs = Headers.fromPairs
/** Builds headers from pairs, a record, or {@link Headers}. */
export const from = Headers.from
/** {@link Headers.fromInput}: any JavaScript value to headers or an `InvalidHeader`, never throwing. */
export const fromInput = Headers.fromInput
/** Wraps a flat `[name, value, ...]` array. */
export const fromRaw = Headers.fromRaw
/** No fields. */
export const empty = Headers.empty
