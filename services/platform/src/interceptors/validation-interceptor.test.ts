import { WhoAmIRequestSchema } from "@shop/contracts/shop/identity/v1/api_key_service_pb.js";
import { ProductCreatedSchema } from "@shop/contracts/shop/products/v1/events_pb.js";
import { CreateProductRequestSchema } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { describe, expect, it } from "vitest";
import { hasNoRules } from "./validation-interceptor.js";

describe("which messages the validator may skip", () => {
  it("skips a message without a rule anywhere", () => {
    expect(hasNoRules(WhoAmIRequestSchema)).toBe(true);
  });

  it("validates a message with rules of its own", () => {
    expect(hasNoRules(CreateProductRequestSchema)).toBe(false);
  });

  it("validates a message whose only rules are on a message it contains", () => {
    expect(hasNoRules(ProductCreatedSchema)).toBe(false);
  });
});
