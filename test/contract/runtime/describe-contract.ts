// Turns a generated case table into tests: every RPC over every protocol and endpoint, every protovalidate rule of its
// request broken alone, malformed bodies, and its access option role by role. Written once; the tables are data.
import {
  create,
  type DescMethod,
  type DescService,
  equals,
  fromBinary,
  fromJson,
  type MessageShape,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { eventSubject } from "@shop/event-wire";
import { allowedRoles, contractRegistry } from "@shop/platform";
import { allProtocols, bearer, envelope, type ProtocolName, rawCall, transportFor } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ContractTarget, type Endpoint, openContractTarget, type StreamWatch } from "./contract-target.js";
import { type CoverageLedger, createCoverageLedger, eventsOf, streamsOf } from "./coverage-ledger.js";
import { eventTriggersOf, fixturesOf, type RequestInit, type TriggerContext } from "./fixtures.js";
import { breakRule, ruleCases, validMessage, withOverrides } from "./request-rules.js";
import type { RoleName, RpcContract, ServiceContract } from "./service-contract.js";

const roles: RoleName[] = ["public", "customer", "seller", "operator", "service"];
const refusals = ["unauthenticated", "permission_denied"];
const timeoutMs = 20_000;
// The check that refusals published nothing waits for the service's streams to settle (20 s at most); an event case
// for its trigger (a checkout waits for the catalog to reach orders) and then for the publication.
const settleTimeoutMs = 60_000;
const eventCaseTimeoutMs = 180_000;

/** How a call ended: "ok" or the code name, and for answers the fields they carry (what protocols must agree on). */
interface Outcome {
  code: string;
  fields?: string[];
  message?: string;
}

let sequence = 0;
/** A suffix no other call of this run has, for requests that create something with a unique key. */
const unique = () => `${Date.now().toString(36)}${(sequence++).toString(36)}`;

function codeName(err: unknown): string {
  return Code[ConnectError.from(err).code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

async function call(
  method: DescMethod,
  endpoint: Endpoint,
  protocol: ProtocolName,
  request: RequestInit,
  credential: string | undefined,
): Promise<Outcome> {
  const transport = transportFor(protocol, endpoint.url, credential ? [bearer(credential)] : []);
  const client = createClient(method.parent, transport) as unknown as Record<
    string,
    (req: unknown, options: { timeoutMs: number }) => unknown
  >;
  const invoke = client[method.localName] as (req: unknown, options: { timeoutMs: number }) => unknown;
  const message = create(method.input, request as never);
  try {
    const answers: MessageShape<typeof method.output>[] = [];
    if (method.methodKind === "server_streaming") {
      for await (const answer of invoke(message, { timeoutMs }) as AsyncIterable<MessageShape<typeof method.output>>) {
        answers.push(answer);
      }
    } else {
      answers.push((await invoke(message, { timeoutMs })) as MessageShape<typeof method.output>);
    }
    // The answer decoded (the client would have thrown); what it carries must survive JSON, as any client reads it.
    const fields = answers.flatMap((answer) =>
      Object.keys(toJson(method.output, answer, { registry: contractRegistry }) as object),
    );
    return { code: "ok", fields: [...new Set(fields)].sort() };
  } catch (err) {
    return { code: codeName(err), message: ConnectError.from(err).rawMessage };
  }
}

/** The role a suite calls as when the case is not about access: an operator where allowed (it may call the most). */
function callerOf(rpc: RpcContract): RoleName {
  if (rpc.allow.includes("operator")) return "operator";
  return rpc.allow.find((role) => role !== "public") ?? "public";
}

/** Bodies no client library would send, per protocol: what each is, and the code a clean refusal has. */
function malformedBodies(
  method: DescMethod,
  protocol: ProtocolName,
  valid: RequestInit,
  maxRequestBytes: number,
): Array<{ kind: string; body: Uint8Array; expect: string }> {
  const framed = protocol === "grpc" || protocol === "grpc-web";
  const wrap = (payload: Uint8Array) => (framed ? envelope(payload) : payload);
  const bodies: Array<{ kind: string; body: Uint8Array; expect: string }> = [];
  const message = create(method.input, valid as never);
  if (protocol === "connect-json") {
    const json = JSON.stringify(toJson(method.input, message, { registry: contractRegistry }));
    bodies.push({ kind: "garbage", body: Buffer.from("{\u0000not json"), expect: "invalid_argument" });
    bodies.push({ kind: "truncated", body: Buffer.from(json.slice(0, -1)), expect: "invalid_argument" });
    bodies.push({ kind: "wrong JSON types", body: Buffer.from(wrongTypes(method)), expect: "invalid_argument" });
    bodies.push({
      kind: "oversized",
      body: Buffer.from(`${" ".repeat(maxRequestBytes)}{}`),
      expect: "resource_exhausted",
    });
    return bodies;
  }
  const binary = toBinary(method.input, message);
  bodies.push({
    kind: "garbage",
    body: wrap(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f])),
    expect: "invalid_argument",
  });
  if (binary.byteLength > 0) {
    bodies.push({
      kind: "truncated",
      body: wrap(binary.subarray(0, binary.byteLength - 1)),
      expect: "invalid_argument",
    });
  }
  // An unknown length-delimited field (number 2047) as big as the limit: a well-formed message, only too large.
  const padding = maxRequestBytes + 1;
  const header = Buffer.from([0xfa, 0x7f, ...varint(padding)]);
  bodies.push({
    kind: "oversized",
    body: wrap(Buffer.concat([header, Buffer.alloc(padding)])),
    expect: "resource_exhausted",
  });
  return bodies;
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

/** A JSON object whose every field has a value of the wrong JSON type; an array when the message has no fields. */
function wrongTypes(method: DescMethod): string {
  if (method.input.fields.length === 0) return "[]";
  const out: Record<string, unknown> = {};
  for (const f of method.input.fields) {
    if (f.fieldKind === "list" || f.fieldKind === "map" || f.fieldKind === "message") out[f.jsonName] = 7;
    else if (f.fieldKind === "enum") out[f.jsonName] = { not: "an enum" };
    else if (f.scalar === 9 || f.scalar === 12) out[f.jsonName] = 7;
    else if (f.scalar === 8) out[f.jsonName] = "maybe";
    else out[f.jsonName] = "not a number";
  }
  return JSON.stringify(out);
}

/** Protocols a raw malformed body is sent over: the Connect protocol frames a stream differently, so not there. */
function rawProtocols(method: DescMethod): ProtocolName[] {
  return method.methodKind === "unary" ? allProtocols : ["grpc", "grpc-web"];
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The last sequence of each stream once nothing more arrives: what an earlier case made (an outbox relayed late, a
 * consumer's reaction) must be in before a refused request is checked to add nothing. Gives up waiting after 20 s;
 * a stream still busy then shows up as added events, and the assertion names them.
 */
async function sequences(streams: StreamWatch, names: string[]): Promise<Record<string, number>> {
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await streams.lastSequence(n)])));
}

/** The streams' last sequences once they stop moving (200 ms without a new message, 20 s at most). */
async function settledSequences(streams: StreamWatch, names: string[]): Promise<Record<string, number>> {
  const read = () => sequences(streams, names);
  let last = await read();
  for (let round = 0; round < 100; round++) {
    await pause(200);
    const now = await read();
    if (JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
  return last;
}

/** Registers the contract suite of one service. */
export function describeContract(service: DescService, contract: ServiceContract): void {
  const domain = service.typeName.split(".")[1] ?? "";
  const fixtures = fixturesOf(domain);
  let target: ContractTarget;
  let ledger: CoverageLedger;

  beforeAll(async () => {
    target = await openContractTarget();
    ledger = createCoverageLedger(service, target.endpoints(domain), target.streams !== undefined);
  }, 180_000);
  afterAll(async () => {
    await target?.stop();
    if (ledger) ledger.finish();
  }, 60_000);

  const request = (method: DescMethod): RequestInit =>
    withOverrides(validMessage(method.input), fixtures[method.name]?.(unique()));

  describe(service.typeName, () => {
    it("has a case table that matches the contract (regenerate with `npm run generate` otherwise)", () => {
      expect(contract.service).toBe(service.typeName);
      expect(contract.rpcs.map((rpc) => rpc.name)).toEqual(service.methods.map((method) => method.name));
      for (const method of service.methods) {
        const rpc = contract.rpcs.find((candidate) => candidate.name === method.name);
        expect(rpc?.rules, method.name).toEqual(ruleCases(method.input));
        expect(rpc?.allow.length, `${method.name} declares who may call it`).toBeGreaterThan(0);
        expect(rpc?.allow, method.name).toEqual(allowedRoles(method).map((role) => Role[role].toLowerCase()));
      }
    });

    describe.each(contract.rpcs.map((rpc) => [rpc.name, rpc] as const))("%s", (_, rpc) => {
      const method = service.methods.find((candidate) => candidate.name === rpc.name) as DescMethod;
      const caller = () => target.credential(callerOf(rpc));

      it("answers a valid request alike over Connect JSON, Connect binary, gRPC and gRPC-web", async () => {
        for (const endpoint of target.endpoints(domain)) {
          const outcomes: Record<string, Outcome> = {};
          for (const protocol of allProtocols) {
            outcomes[protocol] = await call(method, endpoint, protocol, request(method), caller());
            ledger.cover("protocol", `${rpc.name} ${endpoint.via} ${protocol}`);
          }
          const summary = (outcome: Outcome) => ({ code: outcome.code, fields: outcome.fields });
          const first = summary(outcomes[allProtocols[0] as ProtocolName] as Outcome);
          for (const protocol of allProtocols) {
            const outcome = outcomes[protocol] as Outcome;
            expect(outcome.code, `${endpoint.via} ${protocol}: ${outcome.message ?? ""}`).not.toMatch(
              /^(internal|unknown)$/,
            );
            expect(summary(outcome), `${endpoint.via} ${protocol} agrees with ${allProtocols[0]}`).toEqual(first);
          }
        }
      });

      if (rpc.rules.length > 0) {
        // The refusals of this RPC, checked together once they are all sent: the stream positions and time when the
        // first was sent, and the coverage keys they earn if nothing was published.
        const refused: { keys: string[]; fromMs?: number; fromSeq?: Record<string, number> } = { keys: [] };
        const watchesStreams = streamsOf(service).length > 0;
        it.each(rpc.rules.map((rule) => [`${rule.field} ${rule.rule}`, rule] as const))(
          "refuses a request breaking only %s with invalid_argument naming the field",
          async (_, rule) => {
            const broken = breakRule(method.input, request(method), rule);
            const named = rule.field.replaceAll("[0]", "");
            const watched = streamsOf(service);
            if (target.streams && watched.length > 0 && !refused.fromSeq) {
              refused.fromSeq = await sequences(target.streams, watched);
            }
            refused.fromMs ??= Date.now();
            for (const endpoint of target.endpoints(domain)) {
              const outcome = await call(method, endpoint, "connect-binary", broken, caller());
              expect(outcome.code, `${endpoint.via}: ${outcome.message ?? ""}`).toBe("invalid_argument");
              // protovalidate prints list indexes and map keys in the path; the field's own name is what must appear.
              expect((outcome.message ?? "").replace(/\[[^\]]*\]/g, ""), endpoint.via).toContain(named);
              const key = `${rpc.name} ${endpoint.via} ${rule.field} ${rule.rule}`;
              ledger.cover("rule", key);
              refused.keys.push(key);
            }
          },
          timeoutMs,
        );

        // A service that publishes nothing has nothing to check here.
        if (watchesStreams)
          it(
            "published nothing for the refused requests",
            async (context) => {
              const streams = target.streams;
              const watched = streamsOf(service);
              if (!streams || !refused.fromSeq || refused.fromMs === undefined) {
                context.skip("the deployment's NATS was not given (--nats-url): what it published cannot be read");
              }
              const { fromSeq, fromMs } = refused as { fromSeq: Record<string, number>; fromMs: number };
              // Had a refused request written a row, its outbox would have published an event: wait until the streams
              // are still, then look at what was stored since the first refusal. Outboxes relay what earlier cases wrote
              // late when the machine is busy; those facts happened before the refusals, which their occur_time says.
              await settledSequences(streams as StreamWatch, watched);
              const added: string[] = [];
              for (const name of watched) {
                for (const stored of await (streams as StreamWatch).after(name, fromSeq[name] ?? 0)) {
                  if (stored.occurMs > 0 && stored.occurMs < fromMs) continue;
                  added.push(`${stored.type} on ${stored.subject}`);
                }
              }
              expect(added, "events published after the refused requests").toEqual([]);
              for (const key of refused.keys) ledger.cover("unchanged", key);
            },
            settleTimeoutMs,
          );
      }

      it("refuses malformed bodies with invalid_argument or resource_exhausted, and keeps serving", async () => {
        const path = `/${service.typeName}/${method.name}`;
        const credential = caller();
        for (const endpoint of target.endpoints(domain)) {
          for (const protocol of rawProtocols(method)) {
            for (const bad of malformedBodies(method, protocol, request(method), target.maxRequestBytes)) {
              const headers: Record<string, string> = credential ? { authorization: `Bearer ${credential}` } : {};
              const outcome = await rawCall(endpoint.url, path, protocol, bad.body, headers);
              expect(outcome.code, `${endpoint.via} ${protocol} ${bad.kind}: ${outcome.message}`).toBe(bad.expect);
              ledger.count("malformed bodies");
            }
            ledger.cover("malformed", `${rpc.name} ${endpoint.via} ${protocol}`);
          }
          const after = await call(method, endpoint, "connect-binary", request(method), credential);
          expect(after.code, `${endpoint.via} still serves: ${after.message ?? ""}`).not.toMatch(
            /^(internal|unknown|unavailable)$/,
          );
        }
      });

      it.each(roles)("lets %s through exactly when its access option allows it", async (role) => {
        const allowed = rpc.allow.includes("public") || rpc.allow.includes(role);
        for (const endpoint of target.endpoints(domain)) {
          const outcome = await call(method, endpoint, "connect-binary", request(method), target.credential(role));
          const what = `${role} via ${endpoint.via}: ${outcome.code} ${outcome.message ?? ""}`;
          if (allowed) expect(refusals, what).not.toContain(outcome.code);
          else expect(refusals, what).toContain(outcome.code);
          ledger.cover("access", `${rpc.name} ${endpoint.via} ${role}`);
        }
      });
    });

    it("has the events of its package in its case table (regenerate with `npm run generate` otherwise)", () => {
      expect(contract.events).toEqual(
        eventsOf(service).map((event) => ({
          type: event.schema.typeName,
          stream: event.stream,
          subject: event.subjectTemplate,
        })),
      );
    });

    // A stale table entry has no contract to check against; the case above fails for it.
    const events = contract.events.flatMap((declared) =>
      eventsOf(service).filter((event) => event.schema.typeName === declared.type),
    );
    const triggers = eventTriggersOf(domain);
    /** The events each publication case read back, for the round-trip cases to use real ones. */
    const published = new Map<string, unknown>();
    describe.each(events.map((event) => [event.schema.typeName, event] as const))("event %s", (_, event) => {
      const schema = event.schema;
      const short = schema.name;

      it(
        `is published on its subject in stream ${event.stream} after its triggering calls`,
        async (context) => {
          const streams = target.streams;
          if (!streams) return context.skip("the deployment's JetStream is not readable (--nats-url)");
          const trigger = triggers[short];
          expect(trigger, `test/contract/fixtures/${domain}.ts says which calls make ${short}`).toBeDefined();
          const before = await streams.lastSequence(event.stream);
          const triggerContext: TriggerContext = {
            client: (svc, role) => {
              const credential = target.credential(role);
              const gateway = target.endpoints(domain)[0] as Endpoint;
              return createClient(
                svc,
                transportFor("connect-binary", gateway.url, credential ? [bearer(credential)] : []),
              );
            },
            unique,
          };
          await trigger?.(triggerContext);
          // Publication may follow the answer (an outbox relay, a saga step): wait for it, generously.
          const deadline = Date.now() + 60_000;
          let found: { subject: string; data: Uint8Array } | undefined;
          while (!found && Date.now() < deadline) {
            found = (await streams.after(event.stream, before)).find((stored) => stored.type === schema.typeName);
            if (!found) await pause(250);
          }
          expect(found, `${schema.typeName} in ${event.stream} after the trigger`).toBeDefined();
          const decoded = fromBinary(schema, found?.data ?? new Uint8Array());
          expect(found?.subject).toBe(eventSubject(schema, decoded, streams.namespace));
          const meta = (decoded as unknown as { meta?: { eventId: string; aggregateId: string } }).meta;
          expect(meta?.eventId, "EventMeta.event_id").not.toBe("");
          expect(meta?.aggregateId, "EventMeta.aggregate_id").not.toBe("");
          published.set(schema.typeName, decoded);
          ledger.cover("event", `${schema.typeName} published`);
        },
        eventCaseTimeoutMs,
      );

      it("round-trips through binary and JSON", () => {
        // The published event when one was read; otherwise one built from the descriptor, meta filled in.
        const sample =
          (published.get(schema.typeName) as MessageShape<typeof schema> | undefined) ??
          create(schema, {
            ...validMessage(schema),
            meta: { eventId: "e-1", aggregateId: "a-1", aggregateVersion: 3n, correlationId: "c-1" },
          } as never);
        expect(equals(schema, fromBinary(schema, toBinary(schema, sample)), sample)).toBe(true);
        const json = toJson(schema, sample, { registry: contractRegistry });
        const back = fromJson(schema, JSON.parse(JSON.stringify(json)), { registry: contractRegistry });
        expect(equals(schema, back, sample)).toBe(true);
        expect(toJson(schema, back, { registry: contractRegistry })).toEqual(json);
        ledger.cover("event", `${schema.typeName} round-trip`);
      });
    });
  });
}
