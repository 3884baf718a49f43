import { stripeErrors } from "./domain/stripe-error.js";
import type { Metadata } from "./domain/stripe-objects.js";
import type { FormParams, FormValue } from "./form-params.js";

const maxMetadataKeys = 50;
const maxMetadataKeyLength = 40;
const maxMetadataValueLength = 500;
const maxStringLength = 5000;

/**
 * Typed reads of one request's parameters that answer bad input the way Stripe does (`parameter_missing`,
 * `parameter_invalid_integer`… with `param`). `finish()` refuses any parameter nobody read, as Stripe refuses
 * unknown parameters, so a client bug shows here rather than against the real API.
 */
export interface ParamReader {
  string(name: string, options?: { required?: boolean; maxLength?: number }): string | undefined;
  integer(name: string, options?: { required?: boolean }): number | undefined;
  boolean(name: string): boolean | undefined;
  oneOf<const T extends string>(name: string, allowed: readonly T[]): T | undefined;
  /** `metadata[key]=value` pairs; an empty value (or `metadata=`) asks to remove keys, reported as "". */
  metadata(name?: string): Metadata | undefined;
  stringList(name: string): string[] | undefined;
  /** Parameters Stripe takes that the emulator accepts without giving them meaning. */
  ignore(...names: string[]): void;
  finish(): void;
}

/** A reader over `params`; every read marks the parameter as known. */
export function readParams(params: FormParams): ParamReader {
  const read = new Set<string>();
  const take = (name: string): FormValue | undefined => {
    read.add(name);
    return params[name];
  };
  const scalar = (name: string, value: FormValue): string => {
    if (typeof value !== "string") throw stripeErrors.invalidValue(name, `${name} must be a single value.`);
    return value;
  };

  const reader: ParamReader = {
    string(name, options = {}) {
      const value = take(name);
      if (value === undefined) {
        if (options.required) throw stripeErrors.parameterMissing(name);
        return undefined;
      }
      const text = scalar(name, value);
      if (text === "") throw stripeErrors.emptyString(name);
      const maxLength = options.maxLength ?? maxStringLength;
      if (text.length > maxLength) {
        throw stripeErrors.invalidValue(name, `${name} must be at most ${maxLength} characters long.`);
      }
      return text;
    },
    integer(name, options = {}) {
      const text = reader.string(name, options);
      if (text === undefined) return undefined;
      if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw stripeErrors.invalidInteger(name, text);
      return Number(text);
    },
    boolean(name) {
      const text = reader.string(name);
      if (text === undefined) return undefined;
      if (text === "true") return true;
      if (text === "false") return false;
      throw stripeErrors.invalidValue(name, `${name} must be true or false, got "${text}".`);
    },
    oneOf(name, allowed) {
      const text = reader.string(name);
      if (text === undefined) return undefined;
      if (!(allowed as readonly string[]).includes(text)) {
        throw stripeErrors.invalidValue(name, `${name} must be one of ${allowed.join(", ")}; got "${text}".`);
      }
      return text as (typeof allowed)[number];
    },
    metadata(name = "metadata") {
      const value = take(name);
      if (value === undefined) return undefined;
      if (value === "") return {};
      if (typeof value === "string" || Array.isArray(value)) {
        throw stripeErrors.invalidValue(name, `${name} must be key-value pairs, as ${name}[key]=value.`);
      }
      const entries = Object.entries(value);
      if (entries.length > maxMetadataKeys) {
        throw stripeErrors.invalidValue(name, `${name} may hold at most ${maxMetadataKeys} keys.`);
      }
      const metadata: Metadata = {};
      for (const [key, item] of entries) {
        const param = `${name}[${key}]`;
        if (typeof item !== "string") throw stripeErrors.invalidValue(param, `${param} must be a string.`);
        if (key.length > maxMetadataKeyLength) {
          throw stripeErrors.invalidValue(param, `Metadata keys must be at most ${maxMetadataKeyLength} characters.`);
        }
        if (item.length > maxMetadataValueLength) {
          throw stripeErrors.invalidValue(
            param,
            `Metadata values must be at most ${maxMetadataValueLength} characters.`,
          );
        }
        metadata[key] = item;
      }
      return metadata;
    },
    stringList(name) {
      const value = take(name);
      if (value === undefined) return undefined;
      // Stripe's clients send lists indexed (`expand[0]=…`); `expand[]=…` and a lone value are taken too.
      const items =
        typeof value === "string"
          ? [value]
          : Array.isArray(value)
            ? value
            : Object.entries(value)
                .filter(([index]) => /^\d+$/.test(index) || refuseListKey(name, index))
                .sort(([a], [b]) => Number(a) - Number(b))
                .map(([, item]) => item);
      return items.map((item, index) => scalar(`${name}[${index}]`, item));
    },
    ignore(...names) {
      for (const name of names) read.add(name);
    },
    finish() {
      for (const name of Object.keys(params)) {
        if (!read.has(name)) throw stripeErrors.parameterUnknown(name);
      }
    },
  };
  return reader;
}

function refuseListKey(name: string, key: string): never {
  throw stripeErrors.invalidValue(`${name}[${key}]`, `${name} must be a list, as ${name}[0]=…, ${name}[1]=….`);
}

/** Metadata after an update: new pairs added or replaced, pairs given an empty value removed, `{}` clearing all. */
export function mergeMetadata(current: Metadata, update: Metadata | undefined): Metadata {
  if (update === undefined) return current;
  if (Object.keys(update).length === 0) return {};
  const merged = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === "") delete merged[key];
    else merged[key] = value;
  }
  if (Object.keys(merged).length > maxMetadataKeys) {
    throw stripeErrors.invalidValue("metadata", `metadata may hold at most ${maxMetadataKeys} keys.`);
  }
  return merged;
}

/** Metadata of a new object: pairs with an empty value are simply left out. */
export function newMetadata(given: Metadata | undefined): Metadata {
  return mergeMetadata({}, given ?? {});
}
