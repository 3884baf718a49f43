import type { DescMessage } from "@bufbuild/protobuf";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import {
  type ProductArchived,
  ProductArchivedSchema,
  type ProductCreated,
  ProductCreatedSchema,
  type ProductUpdated,
  ProductUpdatedSchema,
} from "@shop/contracts/shop/products/v1/events_pb.js";
import { ProductStatus } from "@shop/contracts/shop/products/v1/product_pb.js";
import {
  decodeEvent,
  eventContract,
  eventSubjectFilter,
  eventTypeHeader,
  type Logger,
  namespacedStream,
} from "@shop/platform";
import type { CatalogPrices } from "./domain/catalog-prices.js";
import { followStream, type StreamFollower } from "./store/stream-follower.js";

const productEvents = new Map<string, DescMessage>(
  [ProductCreatedSchema, ProductUpdatedSchema, ProductArchivedSchema].map((schema) => [schema.typeName, schema]),
);

/**
 * Feeds the orders' own catalog prices from the PRODUCTS stream: replayed from the start at every start, then
 * followed. Each event carries the whole product, applied by its aggregate version.
 */
export function followCatalog(options: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string;
  logger: Logger;
  prices: CatalogPrices;
}): Promise<StreamFollower> {
  return followStream({
    js: options.js,
    jsm: options.jsm,
    stream: namespacedStream(options.namespace, eventContract(ProductCreatedSchema).stream),
    filterSubject: eventSubjectFilter(ProductCreatedSchema, options.namespace),
    logger: options.logger,
    onMessage(msg) {
      const schema = productEvents.get(msg.headers?.get(eventTypeHeader) ?? "");
      if (schema === undefined) return;
      const event = decodeEvent(schema, msg.data) as ProductCreated | ProductUpdated | ProductArchived;
      if (event.product === undefined) return;
      // An archived product is off sale whatever status its snapshot carries.
      const product =
        schema === ProductArchivedSchema ? { ...event.product, status: ProductStatus.ARCHIVED } : event.product;
      options.prices.apply(product, event.meta?.aggregateVersion ?? 0n);
    },
  });
}
