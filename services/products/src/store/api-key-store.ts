import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { type ApiKey, ApiKeySchema } from "@shop/contracts/shop/identity/v1/api_key_service_pb.js";
import { type ApiKeyRecord, generateApiKey, NotFoundError } from "@shop/platform";
import { createProductEvents } from "../events.js";
import type { ApiKeysTable } from "./database.js";
import { appendToOutbox } from "./outbox-writer.js";
import type { Caller, StoreDeps } from "./store-context.js";

export interface ApiKeyStore {
  /** A new key: the record (hash only) is stored and announced on IDENTITY; the secret is returned once. */
  createKey(
    displayName: string,
    role: Role,
    caller: Caller,
  ): Promise<{ apiKey: ApiKey; secret: string; record: ApiKeyRecord }>;
  listKeys(includeRevoked: boolean): Promise<ApiKey[]>;
  revokeKey(id: string, caller: Caller): Promise<ApiKey>;
}

type KeyRow = Pick<ApiKeysTable, "id" | "display_name" | "role"> & { create_time: Date; revoke_time: Date | null };

function toApiKey(row: KeyRow): ApiKey {
  return create(ApiKeySchema, {
    id: row.id,
    displayName: row.display_name,
    role: row.role as Role,
    createTime: timestampFromDate(row.create_time),
    revokeTime: row.revoke_time ? timestampFromDate(row.revoke_time) : undefined,
  });
}

const columns = ["id", "display_name", "role", "create_time", "revoke_time"] as const;

export function createApiKeyStore(deps: StoreDeps): ApiKeyStore {
  const { db } = deps;
  return {
    async createKey(displayName, role, caller) {
      const { secret, record } = generateApiKey(role);
      const now = deps.clock();
      const events = createProductEvents(deps.namespace, caller.correlationId);
      const row = await db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto("api_keys")
          .values({
            id: record.id,
            display_name: displayName,
            role,
            secret_sha256: record.secretSha256,
            create_time: now,
            create_actor: caller.actor,
          })
          .returning(columns)
          .executeTakeFirstOrThrow();
        await appendToOutbox(trx, [events.apiKeyCreated(record)]);
        return inserted;
      });
      return { apiKey: toApiKey(row), secret, record };
    },

    async listKeys(includeRevoked) {
      let query = db.selectFrom("api_keys").select(columns);
      if (!includeRevoked) query = query.where("revoke_time", "is", null);
      return (await query.orderBy("create_time").execute()).map(toApiKey);
    },

    async revokeKey(id, caller) {
      const events = createProductEvents(deps.namespace, caller.correlationId);
      const row = await db.transaction().execute(async (trx) => {
        const current = await trx
          .selectFrom("api_keys")
          .select(columns)
          .where("id", "=", id)
          .forUpdate()
          .executeTakeFirst();
        if (current === undefined) {
          throw new NotFoundError(
            `no API key "${id}" was created here (keys from SHOP_STATIC_API_KEYS are revoked by removing them there)`,
          );
        }
        if (current.revoke_time !== null) return current;
        const revoked = await trx
          .updateTable("api_keys")
          .set({ revoke_time: deps.clock() })
          .where("id", "=", id)
          .returning(columns)
          .executeTakeFirstOrThrow();
        await appendToOutbox(trx, [events.apiKeyRevoked(id)]);
        return revoked;
      });
      return toApiKey(row);
    },
  };
}
