// Platform overhead: a trivial RPC through the full chain (body cap and decode check, deadline, error mapping, logging,
// metrics, API-key auth, protovalidate) vs the same handler on a bare connectNodeAdapter, over Connect and gRPC.
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { ApiKeyService } from "@shop/contracts/shop/identity/v1/api_key_service_pb.js";
import { ApiKeyRegistry, defaultMaxRequestBytes, generateApiKey } from "@shop/platform";
import { bearer, startTestService, transportFor } from "@shop/platform/testing";
import { type Comparison, compareInterleaved, report } from "./harness.js";

const whoAmI = { whoAmI: () => ({ role: Role.SELLER, subject: "bench" }) };

async function listen(server: http.Server | http2.Http2Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export default async function platformBench(): Promise<void> {
  const apiKeys = new ApiKeyRegistry();
  const { secret, record } = generateApiKey(Role.SELLER);
  apiKeys.put(record);
  const full = await startTestService(
    { name: "bench", routes: (router) => router.service(ApiKeyService, whoAmI) },
    { apiKeys },
  );

  const bare = connectNodeAdapter({ routes: (router) => router.service(ApiKeyService, whoAmI) });
  const bareHttp1 = http.createServer(bare);
  const bareHttp2 = http2.createServer(bare);
  const bareHttp1Url = await listen(bareHttp1);
  const bareHttp2Url = await listen(bareHttp2);

  const comparisons: Comparison[] = [];
  for (const protocol of ["connect-binary", "grpc"] as const) {
    const platformClient = createClient(ApiKeyService, transportFor(protocol, full.url, [bearer(secret)]));
    const bareClient = createClient(
      ApiKeyService,
      transportFor(protocol, protocol === "grpc" ? bareHttp2Url : bareHttp1Url, [bearer(secret)]),
    );
    comparisons.push(
      await compareInterleaved(
        protocol,
        { label: "bare connect handler", op: () => bareClient.whoAmI({}) },
        { label: "full platform chain", op: () => platformClient.whoAmI({}) },
        // A few milliseconds of difference per call: six rounds, so a passing burst of load cannot decide the ratio.
        6,
      ),
    );
  }
  report({
    benchmark: "platform",
    comparisons,
    inProcess: true,
    extra: {
      // The chain measured includes the limits every service runs under; the gateway (and its rate limits) is not
      // in this path.
      limits: `body cap ${defaultMaxRequestBytes} bytes, deadline maximum 30000 ms, no rate limit`,
    },
  });

  await full.shutdown();
  bareHttp1.close();
  bareHttp2.close();
}
