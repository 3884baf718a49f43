import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { describe, expect, it } from "vitest";
import { ApiKeyRegistry, generateApiKey } from "./api-keys.js";

describe("ApiKeyRegistry", () => {
  it("accepts a key's secret, and refuses another secret with the same id", () => {
    const registry = new ApiKeyRegistry();
    const { secret, record } = generateApiKey(Role.SELLER);
    registry.put(record);
    const forged = `${secret.slice(0, -4)}AAAA`;
    expect(registry.verify(secret)?.id).toBe(record.id);
    expect(registry.verify(secret)?.id).toBe(record.id);
    expect(registry.verify(forged)).toBeUndefined();
  });

  it("refuses a revoked key at once, even one it verified just before", () => {
    const registry = new ApiKeyRegistry();
    const { secret, record } = generateApiKey(Role.OPERATOR);
    registry.put(record);
    expect(registry.verify(secret)).toBeDefined();
    registry.remove(record.id);
    expect(registry.verify(secret)).toBeUndefined();
  });

  it("forgets a verified secret when its id is given a new secret", () => {
    const registry = new ApiKeyRegistry();
    const first = generateApiKey(Role.SELLER);
    registry.put(first.record);
    expect(registry.verify(first.secret)).toBeDefined();
    const second = generateApiKey(Role.CUSTOMER);
    const rotated = { ...second.record, id: first.record.id };
    registry.put(rotated);
    expect(registry.verify(first.secret)).toBeUndefined();
  });
});
