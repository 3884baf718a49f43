import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The storefront runs on the SDK's source (sdk/src), so it works from a checkout without building the SDK first.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  resolve: {
    alias: [{ find: /^@shop\/sdk$/, replacement: fileURLToPath(new URL("../../sdk/src/index.ts", import.meta.url)) }],
  },
  server: { host: "127.0.0.1", port: 5173 },
  preview: { host: "127.0.0.1", port: 4173 },
  build: { target: "es2022" },
});
