import { randomBytes } from "node:crypto";
import { Client } from "@opensearch-project/opensearch";
import { createLogger } from "@shop/platform";
import { afterAll, describe } from "vitest";
import { openSearchForTests } from "../../../test/support/opensearch/opensearch-node.js";
import { createEmbeddedBackend, createOpenSearchBackend } from "../src/internal.js";
import { describeCatalogBehaviour } from "./catalog-behaviour.js";

describe("embedded index", () => {
  describeCatalogBehaviour(async () => createEmbeddedBackend());
});

const openSearch = await openSearchForTests();

describe.skipIf(!openSearch)("OpenSearch index", () => {
  const prefix = `t${randomBytes(4).toString("hex")}`;
  let aliases = 0;
  describeCatalogBehaviour(async () =>
    createOpenSearchBackend({
      url: openSearch?.url as string,
      alias: `${prefix}-catalog-${++aliases}`,
      logger: createLogger("test", "silent"),
    }),
  );
  afterAll(async () => {
    const client = new Client({ node: openSearch?.url as string });
    await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true });
    await client.close();
    await openSearch?.stop();
  });
});
