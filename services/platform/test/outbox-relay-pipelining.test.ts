import { describe, expect, it } from "vitest";
import {
  createLogger,
  type EncodedEvent,
  type EventPublisher,
  type OutboxSource,
  startOutboxRelay,
} from "../src/index.js";

const logger = createLogger("relay-test", "silent");

const event = (subject: string, version: number): EncodedEvent => ({
  subject,
  typeName: "test.Event",
  eventId: `${subject}-${version}`,
  aggregateId: subject,
  aggregateVersion: BigInt(version),
  data: new Uint8Array(),
});

/** An in-memory outbox: hands out everything unpublished, oldest first. */
function memoryOutbox(events: EncodedEvent[]): OutboxSource & { published: Set<string> } {
  const published = new Set<string>();
  return {
    published,
    async claim(limit) {
      const batch = events.filter((e) => !published.has(e.eventId)).slice(0, limit);
      if (batch.length === 0) return undefined;
      return {
        events: batch,
        markPublished: async () => {
          for (const e of batch) published.add(e.eventId);
        },
        abandon: async () => undefined,
      };
    },
    waitForWork: (timeoutMs) => new Promise((resolve) => setTimeout(resolve, Math.min(timeoutMs, 5))),
  };
}

describe("outbox relay with several publishes in flight", () => {
  it("pipelines across subjects but never lets an event overtake an earlier one on its subject, even after a failure", async () => {
    const events = ["a", "b", "c", "d"].flatMap((subject) => [1, 2, 3].map((v) => event(subject, v)));
    const source = memoryOutbox(events);
    const stored: EncodedEvent[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    let failedOnce = false;
    const publisher: EventPublisher = {
      publish: () => Promise.reject(new Error("unused")),
      async publishEncoded(e) {
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        if (e.eventId === "b-2" && !failedOnce) {
          failedOnce = true;
          throw new Error("broker hiccup");
        }
        if (!stored.some((s) => s.eventId === e.eventId)) stored.push(e);
        return { stream: "S", seq: stored.length, duplicate: false, domain: "" };
      },
    };
    const relay = startOutboxRelay({ source, publisher, logger, maxInFlight: 8, retryMs: 1 });
    await relay.drained(5_000);
    await relay.stop();
    expect(source.published.size).toBe(events.length);
    expect(mostInFlight).toBeGreaterThan(1);
    for (const subject of ["a", "b", "c", "d"]) {
      expect(stored.filter((e) => e.subject === subject).map((e) => e.aggregateVersion)).toEqual([1n, 2n, 3n]);
    }
  });
});
