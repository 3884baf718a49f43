// The protovalidate rules of a request, read from its descriptor: which rules exist (the generator lists them in the
// case tables), a request that keeps every rule, and a request that breaks exactly one. Both the generator and the
// runtime read rules here, so a table can never list a rule the runtime does not know how to break.
import { create, type DescField, type DescMessage, type DescOneof, getOption, hasOption } from "@bufbuild/protobuf";
import { pathToString, type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import { createValidator, type Violation } from "@bufbuild/protovalidate";
import {
  type FieldRules,
  FieldRulesSchema,
  field as fieldRules,
  oneof as oneofRules,
} from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import fc from "fast-check";

/** One rule of a request: `field` is its proto path (`[0]` steps into a list of messages), `rule` its rule path. */
export interface RuleCase {
  field: string;
  /** e.g. "string.max_len", "repeated.items.string.pattern", "required"; "oneof.required" for a oneof. */
  rule: string;
}

/** Rules protovalidate knows and that carry no constraint of their own. */
const inertRules = new Set(["ignore"]);
/** Nested rules of collections: a path through them continues with the inner rules. */
const nestedRules = new Set(["items", "keys", "values"]);

function rulesOf(field: DescField): FieldRules | undefined {
  return hasOption(field, fieldRules) ? getOption(field, fieldRules) : undefined;
}

function isWellKnown(message: DescMessage): boolean {
  return message.typeName.startsWith("google.protobuf.");
}

/** The rule paths a FieldRules message sets, e.g. ["required", "string.min_len", "string.max_len"]. */
export function rulePaths(rules: FieldRules): string[] {
  const paths: string[] = [];
  const visit = (message: ReflectMessage, prefix: string) => {
    for (const f of message.fields) {
      if (!message.isSet(f) || inertRules.has(f.name)) continue;
      const path = `${prefix}${f.name}`;
      const value = message.get(f);
      const ofFieldRules = message.desc.typeName === FieldRulesSchema.typeName;
      if (f.fieldKind === "message" && (ofFieldRules || nestedRules.has(f.name))) {
        visit(value as ReflectMessage, `${path}.`);
      } else if (f.fieldKind === "scalar" && f.scalar === 8 && value === false) {
        // A boolean rule set to false (e.g. `defined_only: false`) asks nothing.
      } else {
        paths.push(path);
      }
    }
  };
  visit(reflect(FieldRulesSchema, rules), "");
  return paths;
}

/** The value a rule path sets, e.g. 200n for "string.max_len"; a list for "enum.in"; a message for durations. */
export function ruleValue(rules: FieldRules, path: string): unknown {
  let current: unknown = reflect(FieldRulesSchema, rules);
  for (const name of path.split(".")) {
    const message = current as ReflectMessage;
    const f = message.fields.find((candidate) => candidate.name === name);
    if (f === undefined) throw new Error(`no rule ${path}`);
    current = message.get(f);
  }
  if (current && typeof current === "object" && "message" in current) return (current as ReflectMessage).message;
  if (current && typeof current === "object" && Symbol.iterator in current) return [...(current as Iterable<unknown>)];
  return current;
}

/** Every rule of a request and of the messages it contains, in field order. */
export function ruleCases(message: DescMessage, prefix = "", stack: string[] = []): RuleCase[] {
  if (stack.includes(message.typeName) || isWellKnown(message)) return [];
  const inner = [...stack, message.typeName];
  const cases: RuleCase[] = [];
  for (const oneof of message.oneofs) {
    if (hasOption(oneof, oneofRules) && getOption(oneof, oneofRules).required) {
      cases.push({ field: `${prefix}${oneof.name}`, rule: "oneof.required" });
    }
  }
  for (const f of message.fields) {
    const path = `${prefix}${f.name}`;
    const rules = rulesOf(f);
    if (rules) for (const rule of rulePaths(rules)) cases.push({ field: path, rule });
    if (f.fieldKind === "message") cases.push(...ruleCases(f.message, `${path}.`, inner));
    if (f.fieldKind === "list" && f.listKind === "message") cases.push(...ruleCases(f.message, `${path}[0].`, inner));
  }
  return cases;
}

/**
 * The typed rules of a field (string, int64, repeated …) that are set, by proto name: proto2 defaults such as
 * `max_len: 0` read as set otherwise. Nested rules (items, keys, values) stay FieldRules messages.
 */
function typedRules(rules: FieldRules | undefined): Init {
  const out: Init = {};
  if (rules === undefined || rules.type.case === undefined) return out;
  const typed = reflect(FieldRulesSchema, rules);
  const member = typed.fields.find((f) => f.localName === rules.type.case);
  if (member === undefined) return out;
  const inner = typed.get(member) as ReflectMessage;
  for (const f of inner.fields) {
    if (!inner.isSet(f)) continue;
    const value = inner.get(f);
    if (value && typeof value === "object" && "message" in value) out[f.name] = (value as ReflectMessage).message;
    else if (value && typeof value === "object" && Symbol.iterator in value)
      out[f.name] = [...(value as Iterable<unknown>)];
    else out[f.name] = value;
  }
  return out;
}

// ---- values --------------------------------------------------------------------------------------------------------

type Init = Record<string, unknown>;

const big = (value: unknown) => (typeof value === "bigint" ? value : BigInt(Number(value ?? 0)));

/** Distinct strings matching a protovalidate pattern, the shortest first; the same every run (fixed seed). */
const samplesByPattern = new Map<string, string[]>();
function patternSamples(pattern: string, count: number): string[] {
  const known = samplesByPattern.get(pattern) ?? [];
  if (known.length >= count) return known;
  const samples = fc.sample(fc.stringMatching(new RegExp(pattern)), { numRuns: Math.max(200, count * 3), seed: 1207 });
  const sorted = [...new Set(samples)].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  samplesByPattern.set(pattern, sorted);
  return sorted;
}

/** A local reading of the string rules, enough to choose candidates; protovalidate has the final word. */
function stringKeeps(rules: Init | undefined, value: string): boolean {
  if (rules === undefined) return true;
  const length = [...value].length;
  if (rules.min_len !== undefined && length < Number(rules.min_len)) return false;
  if (rules.max_len !== undefined && length > Number(rules.max_len)) return false;
  if (typeof rules.pattern === "string" && !new RegExp(rules.pattern).test(value)) return false;
  if (rules.email && !/^[^@\s]+@[^@\s]+\.[a-z]+$/.test(value)) return false;
  if (rules.uri && !/^https:\/\//.test(value)) return false;
  return true;
}

function validStrings(rules: Init | undefined, count = 2): string[] {
  const minLen = Number(rules?.min_len ?? 0);
  const candidates = ["", "a".repeat(Math.max(1, minLen))];
  const enough = count + 30;
  for (let i = 0; i < enough; i++) candidates.push(`c${i}`.padEnd(Math.max(2, minLen), "x"));
  if (rules?.email) for (let i = 0; i < enough; i++) candidates.push(`contract${i}@example.com`);
  if (rules?.uri) for (let i = 0; i < enough; i++) candidates.push(`https://example.com/contract/${i}`);
  if (typeof rules?.pattern === "string") candidates.push(...patternSamples(rules.pattern, enough));
  return [...new Set(candidates)].filter((value) => stringKeeps(rules, value));
}

function intBounds(rules: Init): { low?: bigint; high?: bigint } {
  return {
    low: rules.gte !== undefined ? big(rules.gte) : rules.gt !== undefined ? big(rules.gt) + 1n : undefined,
    high: rules.lte !== undefined ? big(rules.lte) : rules.lt !== undefined ? big(rules.lt) - 1n : undefined,
  };
}

function isIntegerField(field: DescField): boolean {
  return field.scalar !== undefined && ![1, 2, 8, 9, 12].includes(field.scalar);
}

function integer(field: DescField, value: bigint): unknown {
  // int64-like scalars are bigint in protobuf-es; the 32-bit ones are numbers.
  return [3, 4, 6, 16, 18].includes(field.scalar ?? 0) ? value : Number(value);
}

/** The `index`-th distinct valid value of a singular field (or of one item of a list, one value of a map). */
function validSingular(field: DescField, rules: FieldRules | undefined, index: number): unknown {
  const typed = typedRules(rules);
  switch (rules?.type.case) {
    case "duration": {
      const low = (typed.gte ?? typed.gt) as { seconds: bigint } | undefined;
      const seconds = (low?.seconds ?? 1n) + (typed.gt ? 1n : 0n) + BigInt(index);
      return { seconds, nanos: 0 };
    }
    case "enum": {
      const allowed = (typed.in as number[] | undefined) ?? [];
      if (allowed.length > 0) return allowed[index % allowed.length];
      return field.enum?.values[index % (field.enum?.values.length ?? 1)]?.number ?? 0;
    }
    case "bytes":
      return new TextEncoder().encode("a".repeat(Math.max(Number(typed.min_len ?? 0), 1) + index));
  }
  if (field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message")) {
    const message = field.message as DescMessage;
    return isWellKnown(message) ? {} : validMessage(message, index);
  }
  if (field.enum) return field.enum.values[index % field.enum.values.length]?.number ?? 0;
  if (field.scalar === 9) {
    const values = validStrings(rules === undefined ? undefined : typed, index + 1);
    const value = values[index];
    if (value === undefined) throw new Error(`no ${index + 1} distinct valid values for ${field.name}`);
    return value;
  }
  if (field.scalar === 12) return new TextEncoder().encode(`v${index}`);
  if (field.scalar === 8) return index % 2 === 1;
  if (isIntegerField(field)) {
    const { low, high } = intBounds(typed);
    let value = BigInt(index);
    if (low !== undefined && value < low) value = low + BigInt(index);
    if (high !== undefined && value > high) value = high - BigInt(index);
    return integer(field, value);
  }
  return index;
}

/** The valid value of a field as a request carries it: lists and maps at their minimum size, messages if required. */
function validField(field: DescField, index = 0): unknown {
  const rules = rulesOf(field);
  if (field.fieldKind === "list") {
    const listRules = rules?.type.case === "repeated" ? rules.type.value : undefined;
    const items = listRules?.items;
    const count = Number(typedRules(rules).min_items ?? 0);
    return Array.from({ length: count }, (_, i) => validSingular(field, items, i + index));
  }
  if (field.fieldKind === "map") {
    const mapRules = rules?.type.case === "map" ? rules.type.value : undefined;
    return validPairs(field, mapRules?.keys, mapRules?.values, Number(typedRules(rules).min_pairs ?? 0));
  }
  if (field.fieldKind === "message" && !rules?.required && rules?.type.case !== "duration") return undefined;
  if (field.fieldKind === "message" && rules?.type.case === "duration" && !rules.required) {
    return validSingular(field, rules, index);
  }
  return validSingular(field, rules, index);
}

/** A map's keys and values read as singular fields, so the value builders serve them too. */
function mapKeyField(field: DescField & { fieldKind: "map" }): DescField {
  return { ...field, scalar: field.mapKey, fieldKind: "scalar", enum: undefined } as unknown as DescField;
}
function mapValueField(field: DescField & { fieldKind: "map" }): DescField {
  return { ...field, fieldKind: field.mapKind } as unknown as DescField;
}

function validPairs(field: DescField, keys: FieldRules | undefined, values: FieldRules | undefined, count: number) {
  if (field.fieldKind !== "map") return {};
  const keyField = mapKeyField(field);
  const valueField = mapValueField(field);
  const pairs: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    pairs[String(validSingular(keyField, keys, i))] = validSingular(valueField, values, i);
  }
  return pairs;
}

/** A message that keeps every rule: required fields set, everything else at its zero value or its minimum. */
export function validMessage(message: DescMessage, index = 0): Init {
  const init: Init = {};
  for (const f of message.fields) {
    if (f.oneof) continue;
    const value = validField(f, index);
    if (value !== undefined) init[f.localName] = value;
  }
  for (const oneof of message.oneofs) {
    if (!hasOption(oneof, oneofRules) || !getOption(oneof, oneofRules).required) continue;
    const [first] = oneof.fields;
    if (first) init[oneof.localName] = { case: first.localName, value: validSingular(first, rulesOf(first), index) };
  }
  return init;
}

/** Values that may break `rule` on `field`; the caller keeps the first that protovalidate finds breaking only it. */
function breakingValues(field: DescField, rule: string): unknown[] {
  const rules = rulesOf(field) as FieldRules;
  const bound = ruleValue(rules, rule);
  const [kind, ...rest] = rule.split(".");
  const name = rest.join(".");
  const listRules = rules.type.case === "repeated" ? rules.type.value : undefined;
  const mapRules = rules.type.case === "map" ? rules.type.value : undefined;
  if (kind === "required") return [undefined];
  if (kind === "repeated") {
    const items = (count: number, offset = 0) =>
      Array.from({ length: count }, (_, i) => validSingular(field, listRules?.items, i + offset));
    if (name === "min_items") return [items(Number(bound) - 1)];
    if (name === "max_items") return [items(Number(bound) + 1)];
    if (name === "unique")
      return [[validSingular(field, listRules?.items, 0), validSingular(field, listRules?.items, 0)]];
    if (name.startsWith("items.")) {
      const itemRule = name.slice("items.".length);
      const keep = items(Math.max(Number(typedRules(rules).min_items ?? 1), 1) - 1, 1);
      return singularBreaking(field, listRules?.items as FieldRules, itemRule).map((bad) => [bad, ...keep]);
    }
  }
  if (kind === "map" && field.fieldKind === "map") {
    const pairs = (count: number) => validPairs(field, mapRules?.keys, mapRules?.values, count);
    if (name === "max_pairs") return [pairs(Number(bound) + 1)];
    if (name === "min_pairs") return [pairs(Number(bound) - 1)];
    const keyField = mapKeyField(field);
    const valueField = mapValueField(field);
    const goodKey = String(validSingular(keyField, mapRules?.keys, 0));
    const goodValue = validSingular(valueField, mapRules?.values, 0);
    if (name.startsWith("keys.")) {
      return singularBreaking(keyField, mapRules?.keys as FieldRules, name.slice(5)).map((bad) => ({
        [String(bad)]: goodValue,
      }));
    }
    if (name.startsWith("values.")) {
      return singularBreaking(valueField, mapRules?.values as FieldRules, name.slice(7)).map((bad) => ({
        [goodKey]: bad,
      }));
    }
  }
  return singularBreaking(field, rules, rule);
}

function singularBreaking(field: DescField, rules: FieldRules, rule: string): unknown[] {
  const bound = ruleValue(rules, rule);
  const [kind, name] = rule.split(".");
  const n = typeof bound === "bigint" || typeof bound === "number" ? BigInt(bound) : 0n;
  if (kind === "string") {
    const longest = (extra: number) => "a".repeat(Number(n) + extra);
    switch (name) {
      case "min_len":
        return [longest(-1)];
      case "max_len":
        return [
          longest(1),
          "1".repeat(Number(n) + 1),
          `${"a".repeat(Math.max(1, Number(n) + 1 - "@example.com".length))}@example.com`,
          (validStrings(typedRules(rules))[1] ?? "").padEnd(Number(n) + 1, "a"),
        ];
      case "pattern":
        return ["!", "", " ", "-", "a".repeat(300), "A!"];
      case "email":
        return ["not-an-email", "@", "a@"];
      case "uri":
        return ["not a uri", "://", "ftp//x"];
      case "in":
        return ["not-in-the-list"];
    }
  }
  if (kind === "bytes") {
    if (name === "min_len") return [new Uint8Array(Number(n) - 1)];
    if (name === "max_len") return [new Uint8Array(Number(n) + 1).fill(97)];
  }
  if (kind === "enum") {
    const values = field.enum?.values.map((v) => v.number) ?? [];
    const allowed = (bound as number[] | undefined) ?? [];
    if (name === "defined_only") return [Math.max(0, ...values) + 1000];
    if (name === "in") return [...values.filter((v) => !allowed.includes(v)), Math.max(0, ...values) + 1000];
    if (name === "not_in") return allowed;
  }
  if (kind === "duration") {
    const seconds = (bound as { seconds?: bigint } | undefined)?.seconds ?? 0n;
    if (name === "gte")
      return [
        { seconds: seconds - 1n, nanos: 0 },
        { seconds: 0n, nanos: 0 },
      ];
    if (name === "gt") return [{ seconds, nanos: 0 }];
    if (name === "lte") return [{ seconds: seconds + 1n, nanos: 0 }];
    if (name === "lt") return [{ seconds, nanos: 0 }];
  }
  if (field.scalar !== undefined && isIntegerField(field)) {
    if (name === "gte") return [integer(field, n - 1n)];
    if (name === "gt") return [integer(field, n)];
    if (name === "lte") return [integer(field, n + 1n)];
    if (name === "lt") return [integer(field, n)];
  }
  return [];
}

// ---- paths ---------------------------------------------------------------------------------------------------------

interface Step {
  name: string;
  indexed: boolean;
}

function parsePath(path: string): Step[] {
  return path.split(".").map((part) => ({ name: part.replace(/\[0\]$/, ""), indexed: part.endsWith("[0]") }));
}

/** Walks `init` along `path` (creating valid parents on the way) and hands the leaf's holder to `change`. */
function atPath(
  message: DescMessage,
  init: Init,
  path: string,
  change: (holder: Init, leaf: DescField | DescOneof, owner: DescMessage) => void,
): void {
  const steps = parsePath(path);
  let schema = message;
  let holder = init;
  for (const [i, step] of steps.entries()) {
    const last = i === steps.length - 1;
    const member: DescField | DescOneof | undefined =
      schema.fields.find((f) => f.name === step.name) ?? schema.oneofs.find((o) => o.name === step.name);
    if (member === undefined) throw new Error(`${path}: no field ${step.name} in ${schema.typeName}`);
    if (last) {
      change(holder, member, schema);
      return;
    }
    const f = member as DescField;
    const child = f.message as DescMessage;
    if (step.indexed) {
      const list = (holder[f.localName] as Init[] | undefined) ?? [];
      if (list.length === 0) list.push(validMessage(child));
      holder[f.localName] = list;
      holder = list[0] as Init;
    } else {
      holder[f.localName] ??= validMessage(child);
      holder = holder[f.localName] as Init;
    }
    schema = child;
  }
}

const validator = createValidator();

/** What protovalidate says of a request: the violations as `field: rule` strings. */
export function violationsOf(message: DescMessage, init: Init): Violation[] {
  const result = validator.validate(message, create(message, init));
  if (result.kind === "error") throw result.error;
  return result.kind === "invalid" ? result.violations : [];
}

/** `field` printed as protovalidate prints it, and the rule path of a violation. */
export function describeViolation(violation: Violation): { field: string; rule: string } {
  return { field: pathToString(violation.field), rule: pathToString(violation.rule) };
}

/** The violation a case expects, matched loosely on the field (list indexes and map keys vary). */
function matches(violation: Violation, rule: RuleCase): boolean {
  const { field, rule: path } = describeViolation(violation);
  const base = rule.field.replaceAll("[0]", "");
  const printed = field.replace(/\[[^\]]*\]/g, "");
  if (printed !== base) return false;
  if (rule.rule === "oneof.required") return violation.ruleId === "required";
  if (path === rule.rule) return true;
  // A range (gte + lte) is one rule to protovalidate: its path names the lower bound, its id both (int64.gte_lte).
  const name = rule.rule.split(".").at(-1) ?? "";
  const prefix = rule.rule.slice(0, -name.length);
  const combined = violation.ruleId.split(".").at(-1)?.split("_") ?? [];
  return ["gt", "gte", "lt", "lte"].includes(name) && path.startsWith(prefix) && combined.includes(name);
}

/**
 * `base` with exactly `rule` broken: protovalidate reports that one violation and no other. Throws when no candidate
 * value does, so a rule the runtime cannot break shows up as a failing case rather than a silent gap.
 */
export function breakRule(message: DescMessage, base: Init, rule: RuleCase): Init {
  const tried: string[] = [];
  const candidates: unknown[] = [];
  const probe = structuredClone(base);
  atPath(message, probe, rule.field, (_holder, leaf) => {
    if (leaf.kind === "oneof") candidates.push(undefined);
    else candidates.push(...breakingValues(leaf, rule.rule));
  });
  for (const candidate of candidates) {
    const request = structuredClone(base);
    atPath(message, request, rule.field, (holder, leaf) => {
      if (leaf.kind === "field" && leaf.oneof)
        holder[leaf.oneof.localName] = { case: leaf.localName, value: candidate };
      else if (candidate === undefined) delete holder[leaf.localName];
      else holder[leaf.localName] = candidate;
    });
    const violations = violationsOf(message, request);
    if (violations.length === 1 && violations[0] && matches(violations[0], rule)) return request;
    tried.push(violations.map((v) => `${pathToString(v.field)}:${pathToString(v.rule)}`).join(",") || "valid");
  }
  throw new Error(`cannot break ${rule.rule} on ${rule.field} alone (candidates gave: ${tried.join(" | ")})`);
}

/** A deep copy of `init` with `overrides` laid over it (plain objects merged, everything else replaced). */
export function withOverrides(init: Init, overrides: Init | undefined): Init {
  const out = structuredClone(init);
  for (const [key, value] of Object.entries(overrides ?? {})) {
    const current = out[key];
    const plain = (v: unknown) =>
      v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array);
    out[key] =
      plain(current) && plain(value) && !("case" in (value as Init))
        ? withOverrides(current as Init, value as Init)
        : value;
  }
  return out;
}
