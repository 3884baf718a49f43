import { describe, expect, it } from "vitest";
import { isStripeApiError } from "./domain/stripe-error.js";
import { canonicalJson, parseFormParams } from "./form-params.js";

function refusal(text: string): string {
  try {
    parseFormParams(text);
  } catch (err) {
    if (isStripeApiError(err) && err.status === 400) return err.body.message;
    throw err;
  }
  throw new Error(`parsed ${text}`);
}

describe("parseFormParams", () => {
  it("reads Stripe's bracket notation into nested values", () => {
    expect(
      parseFormParams(
        "amount=1250&metadata[order_id]=o%201&metadata[note]=a+b&expand[0]=latest_charge&expand[1]=payment_method",
      ),
    ).toEqual({
      amount: "1250",
      metadata: { order_id: "o 1", note: "a b" },
      expand: { 0: "latest_charge", 1: "payment_method" },
    });
    expect(parseFormParams("expand[]=a&expand[]=b&metadata=")).toEqual({ expand: ["a", "b"], metadata: "" });
    expect(parseFormParams("")).toEqual({});
  });

  it("takes the last of repeated values", () => {
    expect(parseFormParams("amount=1&amount=2")).toEqual({ amount: "2" });
  });

  it("refuses undecodable or contradictory input with a 400", () => {
    expect(refusal("amount=%zz")).toContain("percent-encoding");
    expect(refusal("a]=1")).toContain("not a valid parameter name");
    expect(refusal("metadata=1&metadata[a]=2")).toContain("both as a value");
    expect(refusal("metadata[a]=2&metadata=1")).toContain("both as a value");
    expect(refusal(`a${"[x]".repeat(9)}=1`)).toContain("nested too deeply");
  });

  it("keeps keys such as __proto__ as plain data", () => {
    const params = parseFormParams("metadata[__proto__]=x&__proto__[polluted]=1");
    expect(Object.getPrototypeOf(params.metadata)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("canonicalJson", () => {
  it("compares parameters regardless of their order", () => {
    expect(canonicalJson(parseFormParams("b=2&a=1&m[y]=1&m[x]=2"))).toBe(
      canonicalJson(parseFormParams("m[x]=2&a=1&m[y]=1&b=2")),
    );
  });
});
