import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // Tests run the SDK from its source, as tsc and tsx do (tsconfig.json paths); sdk/dist is only for the package.
  resolve: {
    alias: [
      { find: /^@shop\/sdk$/, replacement: source("./sdk/src/index.ts") },
      { find: /^@shop\/sdk\/events$/, replacement: source("./sdk/src/events.ts") },
    ],
  },
  test: {
    include: [
      "services/*/src/**/*.test.ts",
      "services/*/test/**/*.test.ts",
      "sdk/**/*.test.ts",
      "cli/**/*.test.ts",
      "test/**/*.test.ts",
    ],
    exclude: ["**/node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // One OpenSearch node per run (or OPENSEARCH_URL), shared by every suite that needs it.
    globalSetup: ["./test/support/opensearch/opensearch-node.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
