// Platform overhead: a trivial RPC through the full chain (body cap and decode check, deadline, error mapping, logging,
// metrics, API-key auth, protovalidate) vs the same handler on a bare connectNodeAdapter, over Connect and gRPC. Each
// server runs in a process of its own (bench/fixtures/platform-server.ts), as a service is deployed; the client is
// this process. Rounds alternate between the two, in alternating order. Two ratios: calls per second (the client and
// both servers share two cores, so it swings with the machine), and calls per CPU-second of the server alone (what
// the chain costs a service; steady where throughput is not).
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createClient } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { ApiKeyService } from "@shop/contracts/shop/identity/v1/api_key_service_pb.js";
import { defaultMaxRequestBytes, generateApiKey } from "@shop/platform";
import { bearer, transportFor } from "@shop/platform/testing";
import { type Comparison, type Measurement, measure, poolRuns, report } from "./harness.js";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const rounds = 6;

interface ServerProcess {
  url: string;
  /** The server's CPU time so far, in seconds. */
  cpuSeconds(): Promise<number>;
  stop(): void;
}

async function startServer(side: "bare" | "full", protocol: string, keyRecord: string): Promise<ServerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "bench/fixtures/platform-server.ts", side, protocol, keyRecord],
    { cwd: root, env: { ...process.env, SHOP_LOG_LEVEL: "warn" }, stdio: ["pipe", "pipe", "inherit"] },
  );
  const waiting: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => waiting.shift()?.(line));
  const nextLine = () => new Promise<string>((resolve) => waiting.push(resolve));
  const url = await nextLine();
  return {
    url,
    async cpuSeconds() {
      const answer = nextLine();
      child.stdin?.write("cpu\n");
      return Number(await answer) / 1e6;
    },
    stop: () => child.stdin?.end(),
  };
}

export default async function platformBench(): Promise<void> {
  const { secret, record } = generateApiKey(Role.SELLER);
  const comparisons: Comparison[] = [];
  for (const protocol of ["connect-binary", "grpc"] as const) {
    const servers = {
      bare: await startServer("bare", protocol, ""),
      full: await startServer("full", protocol, JSON.stringify(record)),
    };
    const runs: Record<"bare" | "full", Measurement[]> = { bare: [], full: [] };
    const serverCpu = { bare: 0, full: 0 };
    for (let round = 0; round < rounds; round++) {
      for (const side of round % 2 === 0 ? (["bare", "full"] as const) : (["full", "bare"] as const)) {
        const client = createClient(ApiKeyService, transportFor(protocol, servers[side].url, [bearer(secret)]));
        const op = () => client.whoAmI({});
        // Warm-up unmeasured (longer in the first round, while both servers optimize their code), then measured.
        await measure({ label: side, op, durationMs: round === 0 ? 2_000 : 300, warmupMs: 0 });
        const before = await servers[side].cpuSeconds();
        runs[side].push(await measure({ label: side, op, warmupMs: 0 }));
        serverCpu[side] += (await servers[side].cpuSeconds()) - before;
      }
    }
    const pooled = (side: "bare" | "full", label: string): Measurement => {
      const measured = poolRuns(runs[side], label);
      return { ...measured, opsPerCpuSecond: measured.ops / serverCpu[side] };
    };
    comparisons.push({
      name: protocol,
      subject: pooled("full", "full platform chain"),
      baseline: pooled("bare", "bare connect handler"),
    });
    servers.bare.stop();
    servers.full.stop();
  }
  report({
    benchmark: "platform",
    comparisons,
    inProcess: true,
    extra: {
      "ops/cpu-s": "calls per CPU-second of the server process alone (the client runs in this process)",
      // The chain measured includes the limits every service runs under; the gateway (and its rate limits) is not
      // in this path.
      limits: `body cap ${defaultMaxRequestBytes} bytes, deadline maximum 30000 ms, no rate limit`,
      rounds: `${rounds} per server and protocol, alternating`,
    },
  });
}
