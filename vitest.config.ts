import { defineConfig } from "vitest/config";

export default defineConfig({
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
