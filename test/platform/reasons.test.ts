import { describe, expect, it } from "@effect/vitest"
import * as E from "../../src/Http1Error.js"
import { requestErrorReason } from "../../src/platform/request.js"

describe("platform RequestError reasons", () => {
  it("caller errors are Encode (retryTransient must not retry them); network failures are Transport", () => {
    expect(requestErrorReason(new E.InvalidRequestFraming({ reason: "x" }))).toBe("Encode")
    expect(requestErrorReason(new E.ContentLengthMismatch({ declared: 0, actual: 3, when: "before-send" }))).toBe("Encode")
    expect(requestErrorReason(new E.RequestBodyError({ cause: new Error("x") }))).toBe("Encode")
    expect(requestErrorReason(new E.InvalidHeader({ side: "request", header: "x", reason: "y" }))).toBe("Encode")
    expect(requestErrorReason(new E.InvalidURL({ url: "x", reason: "y" }))).toBe("InvalidUrl")
    expect(requestErrorReason(new E.RemoteDisconnected({}))).toBe("Transport")
    expect(requestErrorReason(new E.InvalidHeader({ side: "response", header: "x", reason: "y" }))).toBe("Transport")
  })
})
