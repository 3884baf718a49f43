import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type ApiKeyService,
  CreateApiKeyResponseSchema,
  ListApiKeysResponseSchema,
  WhoAmIResponseSchema,
} from "@shop/contracts/shop/identity/v1/api_key_service_pb.js";
import { type ApiKeyRegistry, principalKey } from "@shop/platform";
import { callerOf } from "./caller.js";
import type { ApiKeyStore } from "./store/api-key-store.js";

/**
 * API keys live with the products service (sellers are its main callers). A change is known to this replica at once
 * and to every other service as soon as the relay has published its IDENTITY event.
 */
export function createApiKeyService(store: ApiKeyStore, registry: ApiKeyRegistry): ServiceImpl<typeof ApiKeyService> {
  return {
    async createApiKey(req, ctx) {
      const { apiKey, secret, record } = await store.createKey(req.displayName, req.role, callerOf(ctx));
      registry.put(record);
      return create(CreateApiKeyResponseSchema, { apiKey, secret });
    },
    async listApiKeys(req) {
      return create(ListApiKeysResponseSchema, { apiKeys: await store.listKeys(req.includeRevoked) });
    },
    async revokeApiKey(req, ctx) {
      const apiKey = await store.revokeKey(req.id, callerOf(ctx));
      registry.remove(apiKey.id);
      return apiKey;
    },
    whoAmI(_req, ctx) {
      const principal = ctx.values.get(principalKey);
      return create(WhoAmIResponseSchema, { role: principal.role, subject: principal.subject });
    },
  };
}
