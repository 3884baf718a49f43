// Binary responses are built from the products' stored encodings, JSON ones from objects: over every protocol a
// customer must get the same messages either way, and the stored encodings must follow every event.
import { create, type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { StockChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import {
  CollectionChangedSchema,
  ProductCreatedSchema,
  ProductUpdatedSchema,
} from "@shop/contracts/shop/products/v1/events_pb.js";
import { CatalogProductSchema } from "@shop/contracts/shop/search/v1/search_pb.js";
import {
  type SearchProductsRequest,
  SearchProductsRequestSchema,
  type SearchProductsResponse,
  SearchProductsResponseSchema,
  SearchService,
  SortOrder,
} from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { createLogger, createPlatform } from "@shop/platform";
import {
  allProtocols,
  clientFor,
  createTestEnv,
  openTestJetStream,
  type ProtocolName,
  type TestEnv,
  type TestJetStream,
} from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSearch, loadSearchConfig, type Search } from "../src/index.js";
import { seedEvents, seedProducts } from "./catalog-behaviour.js";
import { productUpdated, stockChanged } from "./support/catalog-events.js";

const schemaOf: Record<string, DescMessage> = {
  [CollectionChangedSchema.typeName]: CollectionChangedSchema,
  [StockChangedSchema.typeName]: StockChangedSchema,
  [ProductCreatedSchema.typeName]: ProductCreatedSchema,
};

const facets = ["tags", "collections", "price", "attributes.color", "attributes.material"];
const sorts = [
  SortOrder.UNSPECIFIED,
  SortOrder.RELEVANCE,
  SortOrder.PRICE_ASC,
  SortOrder.PRICE_DESC,
  SortOrder.NEWEST,
  SortOrder.TITLE,
];

describe("byte-built responses of the embedded search service", () => {
  let env: TestEnv;
  let nats: TestJetStream;
  let search: Search;
  let url: string;
  let clients: Record<ProtocolName, Client<typeof SearchService>>;

  beforeAll(async () => {
    env = await createTestEnv();
    nats = await openTestJetStream(env);
    for (const event of seedEvents())
      await nats.events.publish(schemaOf[event.$typeName] as DescMessage, event as never);
    const config = loadSearchConfig({
      ...env.serviceEnv,
      SHOP_PORT: "0",
      SHOP_SEARCH_BACKEND: "embedded",
      SHOP_SEARCH_CONSUMER: "encoded-responses",
    });
    const platform = await createPlatform("search", config, { logger: createLogger("encoded-responses", "silent") });
    search = await createSearch(platform, config);
    url = (await search.start()).url;
    await search.built;
    clients = Object.fromEntries(
      allProtocols.map((protocol) => [protocol, clientFor(SearchService, url, { protocol })]),
    ) as typeof clients;
  });

  afterAll(async () => {
    await search?.stop();
    await nats?.close();
    await env?.cleanup();
  });

  /** Every page of `init` over every protocol; each page must equal the in-process object path's. */
  async function expectSameEverywhere(init: Parameters<typeof create<typeof SearchProductsRequestSchema>>[1]) {
    let pageToken = "";
    let pages = 0;
    do {
      const request: SearchProductsRequest = create(SearchProductsRequestSchema, { ...init, pageToken });
      const expected = await search.readModel.search(request, "objects");
      for (const protocol of allProtocols) {
        expect(await clients[protocol].searchProducts(request), `${protocol}, page ${pages}`).toEqual(expected);
      }
      pageToken = expected.nextPageToken;
      pages++;
    } while (pageToken);
    return pages;
  }

  it("answers every sort, facet and page the same over Connect JSON, Connect binary, gRPC and gRPC-web", async () => {
    for (const sort of sorts) {
      for (const query of ["", "mug", "ceramic cups"]) {
        const pages = await expectSameEverywhere({ query, sort, facets, pageSize: 3 });
        if (query === "") expect(pages).toBeGreaterThan(1);
      }
    }
    await expectSameEverywhere({ filter: { inStockOnly: true, tags: ["kitchen"] }, facets, pageSize: 2 });
  });

  it("builds binary responses from the stored encodings, and they decode to the object path's message", async () => {
    const request = create(SearchProductsRequestSchema, { query: "mug", facets, pageSize: 2 });
    const bytesForm = await search.readModel.search(request, "bytes");
    expect(bytesForm.hits).toEqual([]);
    // Both hits in one unknown field: the first hit's tag is the field's, the second's is in its data.
    expect(bytesForm.$unknown?.length).toBe(1);
    const objects = await search.readModel.search(request, "objects");
    expect(objects.hits).toHaveLength(2);
    expect(fromBinary(SearchProductsResponseSchema, toBinary(SearchProductsResponseSchema, bytesForm))).toEqual(
      objects,
    );

    // On the wire: the hits follow the facets (unknown fields are written last), which an encoding of objects never
    // does; so this proves the binary protocols take the byte path.
    const raw = await rawConnectBinary("SearchProducts", SearchProductsRequestSchema, request);
    expect((raw[0] ?? 0) >> 3).toBe(2);
    expect(fromBinary(SearchProductsResponseSchema, raw)).toEqual(objects);
  });

  it("answers GetProduct the same over every protocol, from the stored encoding on binary ones", async () => {
    for (const { id } of seedProducts) {
      const expected = await search.readModel.getProduct(id, "objects");
      for (const protocol of allProtocols) expect(await clients[protocol].getProduct({ id })).toEqual(expected);
    }
    const bytesForm = await search.readModel.getProduct("p10", "bytes");
    expect(bytesForm.id).toBe("");
    expect(fromBinary(CatalogProductSchema, toBinary(CatalogProductSchema, bytesForm))).toEqual(
      await search.readModel.getProduct("p10", "objects"),
    );
  });

  it("follows stock and product changes in the stored encodings", async () => {
    const spec = seedProducts.find((product) => product.id === "p10");
    if (!spec) throw new Error("the seed has no p10");
    await nats.events.publish(StockChangedSchema, stockChanged("p10-l", 11, 2));
    await nats.events.publish(ProductUpdatedSchema, productUpdated({ ...spec, title: "Linen Tea Towel" }, 2));
    const request = create(SearchProductsRequestSchema, { query: "linen towel", facets });
    let found: SearchProductsResponse | undefined;
    for (let tries = 0; tries < 300 && found?.hits[0]?.product?.title !== "Linen Tea Towel"; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      found = await clients["connect-binary"].searchProducts(request);
    }
    const product = found?.hits[0]?.product;
    expect(product?.title).toBe("Linen Tea Towel");
    expect(product?.variants.map((variant) => [variant.sku, variant.available])).toEqual([
      ["p10-s", 2n],
      ["p10-l", 11n],
    ]);
    expect(product?.available).toBe(13n);
    await expectSameEverywhere({ query: "towel", facets });
    await expectSameEverywhere({ sort: SortOrder.TITLE, facets, pageSize: 4 });

    await nats.events.publish(StockChangedSchema, stockChanged("p10-s", 0, 2));
    let fetched = await clients.grpc.getProduct({ id: "p10" });
    for (let tries = 0; tries < 300 && fetched.available !== 11n; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      fetched = await clients.grpc.getProduct({ id: "p10" });
    }
    expect(fetched.variants.map((variant) => variant.available)).toEqual([0n, 11n]);
    for (const protocol of allProtocols) {
      expect(await clients[protocol].getProduct({ id: "p10" })).toEqual(await search.readModel.getProduct("p10"));
    }
    await expectSameEverywhere({ filter: { inStockOnly: true }, facets, pageSize: 3 });
  });

  /** The raw body of a Connect binary unary call: the bytes the server wrote. */
  async function rawConnectBinary<Desc extends DescMessage>(
    method: string,
    schema: Desc,
    message: MessageShape<Desc>,
  ): Promise<Uint8Array> {
    const response = await fetch(`${url}/${SearchService.typeName}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/proto", "connect-protocol-version": "1" },
      body: toBinary(schema, message),
    });
    expect(response.status).toBe(200);
    return new Uint8Array(await response.arrayBuffer());
  }
});
