// Independent clients against a platform-served service: curl speaking Connect JSON by hand, and @grpc/grpc-js built
// from the descriptor. If these pass, any standard Connect or gRPC client can call Shop.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ApiKeyService } from "@shop/contracts/shop/identity/v1/api_key_service_pb.js";
import { principalKey } from "@shop/platform";
import { grpcJsClient, startTestService } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
let server: Awaited<ReturnType<typeof startTestService>>;

beforeAll(async () => {
  server = await startTestService({
    name: "identity-interop",
    routes: (router) =>
      router.service(ApiKeyService, {
        whoAmI: (_req, ctx) => {
          const principal = ctx.values.get(principalKey);
          return { role: principal.role, subject: principal.subject };
        },
      }),
  });
});
afterAll(() => server?.shutdown());

/** WhoAmI as curl sends it: a hand-written Connect JSON POST, nothing from connect-es. */
async function curlWhoAmI(credential: string): Promise<unknown> {
  const { stdout } = await run("curl", [
    "-sS",
    "-X",
    "POST",
    "-H",
    "content-type: application/json",
    "-H",
    `authorization: Bearer ${credential}`,
    "--data",
    "{}",
    `${server.url}/shop.identity.v1.ApiKeyService/WhoAmI`,
  ]);
  return JSON.parse(stdout);
}

describe("interop with independent clients", () => {
  it("answers curl speaking Connect JSON over HTTP/1.1", async () => {
    expect(await curlWhoAmI(server.keys.operator)).toMatchObject({ role: "ROLE_OPERATOR" });
  });

  it("answers curl with a Connect JSON error body for a bad key", async () => {
    expect(await curlWhoAmI("sk_000000000000_nope")).toMatchObject({ code: "unauthenticated" });
  });

  it("answers @grpc/grpc-js built from the descriptor, over plain gRPC on the same port", async () => {
    const client = grpcJsClient(ApiKeyService, server.url, server.keys.seller);
    try {
      const response = await client.call("WhoAmI", {});
      expect(response.role).toBe("ROLE_SELLER");
    } finally {
      client.close();
    }
  });
});
