import { create } from "@bufbuild/protobuf";
import {
  ProductCreatedSchema,
  ProductUpdatedSchema,
  StockLevelSetSchema,
} from "@shop/contracts/shop/products/v1/events_pb.js";
import { newEventMeta } from "@shop/platform";
import { createTestEnv, openTestJetStream, type TestEnv, type TestJetStream } from "@shop/platform/testing";
import { isEvent, type ReceivedEvent, subscribeToEvents } from "@shop/sdk/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let env: TestEnv;
let stream: TestJetStream;

beforeAll(async () => {
  env = await createTestEnv();
  stream = await openTestJetStream(env);
});
afterAll(async () => {
  await stream?.close();
  await env?.cleanup();
});

const created = (id: string, title: string, version: number) =>
  create(ProductCreatedSchema, { meta: newEventMeta(id, version), product: { id, title } });

async function take(iterator: AsyncIterator<ReceivedEvent>, count: number): Promise<ReceivedEvent[]> {
  const received: ReceivedEvent[] = [];
  while (received.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    received.push(next.value);
  }
  return received;
}

describe("SDK event subscriptions", () => {
  it("delivers typed events of the chosen types in stream order, skipping other types", async () => {
    const publisher = stream.events;
    await publisher.publish(ProductCreatedSchema, created("p1", "Mug", 1));
    await publisher.publish(
      StockLevelSetSchema,
      create(StockLevelSetSchema, { meta: newEventMeta("MUG-1", 1), sku: "MUG-1", quantity: 3n }),
    );
    await publisher.publish(
      ProductUpdatedSchema,
      create(ProductUpdatedSchema, { meta: newEventMeta("p1", 2), product: { id: "p1", title: "Big mug" } }),
    );

    const subscription = await subscribeToEvents(stream.nats, {
      events: [ProductCreatedSchema, ProductUpdatedSchema],
      namespace: env.namespace,
      from: "all",
    });
    const [first, second] = await take(subscription[Symbol.asyncIterator](), 2);
    await subscription.stop();

    expect(first && isEvent(first, ProductCreatedSchema) && first.event.product?.title).toBe("Mug");
    expect(second && isEvent(second, ProductUpdatedSchema) && second.event.product?.title).toBe("Big mug");
    expect(second?.subject).toBe(`${env.namespace}.shop.products.product.p1`);
  });

  it("resumes after a sequence it has seen", async () => {
    const publisher = stream.events;
    const first = await publisher.publish(ProductCreatedSchema, created("p2", "Bowl", 1));
    await publisher.publish(ProductCreatedSchema, created("p3", "Plate", 1));
    const subscription = await subscribeToEvents(stream.nats, {
      events: [ProductCreatedSchema],
      namespace: env.namespace,
      from: { afterSequence: first.seq },
    });
    const [next] = await take(subscription[Symbol.asyncIterator](), 1);
    await subscription.stop();
    expect(next && isEvent(next, ProductCreatedSchema) && next.event.product?.id).toBe("p3");
  });

  it("refuses event types from two streams in one subscription", async () => {
    const { StockChangedSchema } = await import("@shop/contracts/shop/inventory/v1/events_pb.js");
    await expect(
      subscribeToEvents(stream.nats, { events: [ProductCreatedSchema, StockChangedSchema] }),
    ).rejects.toThrow(/one stream/);
  });
});
