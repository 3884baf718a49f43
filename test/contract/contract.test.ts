// Contract tests generated from the descriptors: every RPC and every event of the contract is checked here, so a new
// RPC or event is covered the moment it is added to proto/.
import { type DescField, type DescMessage, hasOption } from "@bufbuild/protobuf";
import { field as fieldRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { allEventContracts, allowedRoles, contractRegistry } from "@shop/platform";
import { describe, expect, it } from "vitest";

const services = [...contractRegistry].filter((type) => type.kind === "service");
const methods = services.flatMap((service) => service.methods);

/** Request fields that arrive from callers and carry free-form text or collections: they need bounds. */
function unboundedFields(message: DescMessage, seen = new Set<string>()): string[] {
  // Well-known types (FieldMask, Timestamp, Duration) have their own semantics; services check their content.
  if (seen.has(message.typeName) || message.typeName.startsWith("google.protobuf.")) return [];
  seen.add(message.typeName);
  return message.fields.flatMap((f: DescField) => {
    const ruled = hasOption(f, fieldRules);
    const path = `${message.typeName}.${f.name}`;
    const needsRule =
      (f.fieldKind === "scalar" && (f.scalar === 9 || f.scalar === 12)) ||
      f.fieldKind === "list" ||
      f.fieldKind === "map";
    const own = needsRule && !ruled ? [path] : [];
    const nested =
      f.fieldKind === "message"
        ? unboundedFields(f.message, seen)
        : f.fieldKind === "list" && f.listKind === "message"
          ? unboundedFields(f.message, seen)
          : [];
    return [...own, ...nested];
  });
}

describe("the contract", () => {
  it("has the services of every domain", () => {
    expect(services.map((s) => s.typeName).sort()).toEqual([
      "shop.identity.v1.ApiKeyService",
      "shop.inventory.v1.InventoryService",
      "shop.orders.v1.OrderService",
      "shop.products.v1.ProductService",
      "shop.search.v1.SearchService",
    ]);
  });

  describe.each(methods.map((m) => [`${m.parent.typeName}/${m.name}`, m] as const))("%s", (_, method) => {
    it("declares who may call it", () => {
      const roles = allowedRoles(method);
      expect(roles.length).toBeGreaterThan(0);
      expect(roles).not.toContain(Role.UNSPECIFIED);
    });

    it("bounds every text, bytes, list and map field of its request", () => {
      // Output-only fields of resources reused as input are bounded by their own messages' rules or ignored by services.
      const exempt = /\.(id|create_time|update_time|revision|status|collection_ids|product_count|archived|version)$/;
      expect(unboundedFields(method.input).filter((path) => !exempt.test(path))).toEqual([]);
    });
  });

  describe.each(allEventContracts().map((e) => [e.schema.typeName, e] as const))("event %s", (_, event) => {
    it("carries shop.events.v1.EventMeta as field 1", () => {
      const meta = event.schema.fields.find((f) => f.number === 1);
      expect(meta?.name).toBe("meta");
      expect(meta?.fieldKind === "message" && meta.message.typeName).toBe("shop.events.v1.EventMeta");
    });

    it("has a subject whose placeholders are fields of the event", () => {
      expect(event.subjectTemplate).toMatch(/^shop\.[a-z]+\.[a-z_]+\.\{[a-z0-9_.]+\}$/);
      const placeholder = /\{([a-z0-9_.]+)\}/.exec(event.subjectTemplate)?.[1] ?? "";
      let message: DescMessage | undefined = event.schema;
      for (const part of placeholder.split(".")) {
        const f: DescField | undefined = message?.fields.find((candidate) => candidate.name === part);
        expect(f, `${placeholder} in ${event.schema.typeName}`).toBeDefined();
        message = f?.fieldKind === "message" ? f.message : undefined;
      }
    });

    it("names a stream in upper case", () => {
      expect(event.stream).toMatch(/^[A-Z_]+$/);
    });
  });
});
