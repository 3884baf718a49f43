import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";

/** API keys look like `sk_<id>_<secret>`: the id finds the record, the secret proves possession. */
const keyPattern = /^sk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyRecord {
  id: string;
  role: Role;
  secretSha256: string;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A fresh key; the caller stores only `record` and shows `secret` once. */
export function generateApiKey(role: Role): { secret: string; record: ApiKeyRecord } {
  const id = randomBytes(9)
    .toString("base64url")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "0")
    .slice(0, 12);
  const secret = `sk_${id}_${randomBytes(32).toString("base64url")}`;
  return { secret, record: { id, role, secretSha256: sha256Hex(secret) } };
}

export function parseApiKeyId(secret: string): string | undefined {
  return keyPattern.exec(secret)?.[1];
}

/**
 * Known keys by id. Fed by `SHOP_STATIC_API_KEYS` at start and by the identity stream's ApiKeyCreated/Revoked
 * events, so every service authenticates keys without sharing a database.
 */
export class ApiKeyRegistry {
  private readonly byId = new Map<string, ApiKeyRecord>();
  /**
   * Secrets already proven against their record, so a caller's every request does not hash its key again. Holds at
   * most one secret per known key (only a secret that matched is kept), and forgets a key the moment it changes.
   */
  private readonly verified = new Map<string, ApiKeyRecord>();

  put(record: ApiKeyRecord): void {
    this.forget(record.id);
    this.byId.set(record.id, record);
  }

  remove(id: string): void {
    this.forget(id);
    this.byId.delete(id);
  }

  private forget(id: string): void {
    for (const [secret, record] of this.verified) if (record.id === id) this.verified.delete(secret);
  }

  get size(): number {
    return this.byId.size;
  }

  /** The record the secret belongs to, or undefined when it is unknown, revoked or wrong. */
  verify(secret: string): ApiKeyRecord | undefined {
    const known = this.verified.get(secret);
    if (known !== undefined) return known;
    const id = parseApiKeyId(secret);
    const record = id === undefined ? undefined : this.byId.get(id);
    if (record === undefined) return undefined;
    const expected = Buffer.from(record.secretSha256, "hex");
    const actual = Buffer.from(sha256Hex(secret), "hex");
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
    this.verified.set(secret, record);
    return record;
  }
}

const roleByName: Record<string, Role> = {
  customer: Role.CUSTOMER,
  seller: Role.SELLER,
  operator: Role.OPERATOR,
  service: Role.SERVICE,
};

export function parseRole(name: string): Role | undefined {
  return roleByName[name.toLowerCase()];
}

export function roleName(role: Role): string {
  return Object.entries(roleByName).find(([, r]) => r === role)?.[0] ?? "public";
}

/**
 * Parses `role:key,role:key` (SHOP_STATIC_API_KEYS) into records. Throws one message naming every malformed entry by
 * its position, never quoting it (an entry may be a secret), for `loadConfig` to list with the other problems.
 */
export function parseStaticApiKeys(value: string, name = "SHOP_STATIC_API_KEYS"): ApiKeyRecord[] {
  const problems: string[] = [];
  const records: ApiKeyRecord[] = [];
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(":");
    const role = colon > 0 ? parseRole(entry.slice(0, colon)) : undefined;
    const secret = colon > 0 ? entry.slice(colon + 1) : "";
    const id = parseApiKeyId(secret);
    if (role === undefined) {
      problems.push(`entry ${index + 1} must start with a role (${Object.keys(roleByName).join(", ")}) and a colon`);
    } else if (id === undefined) {
      problems.push(`entry ${index + 1} (${roleName(role)}) is not an API key: sk_<12 characters>_<43 characters>`);
    } else {
      const record = { id, role, secretSha256: sha256Hex(secret) };
      const seen = records.find((other) => other.id === id);
      if (seen === undefined) records.push(record);
      else if (seen.role !== role || seen.secretSha256 !== record.secretSha256) {
        problems.push(`entry ${index + 1} gives key ${id} again, differently`);
      }
    }
  });
  if (problems.length > 0) throw new Error(`${name} must be role:sk_<id>_<secret>[,…]: ${problems.join("; ")}`);
  return records;
}
