import { stripeErrors } from "./domain/stripe-error.js";

/** A parameter as Stripe's form encoding nests it: `metadata[order_id]=…` is an object, `expand[]=…` a list. */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };

/** The parameters of one request, by top-level name. */
export type FormParams = Record<string, FormValue>;

const maxDepth = 8;
const keyPattern = /^([^[\]]+)((?:\[[^[\]]*\])*)$/;

function decode(part: string): string {
  try {
    return decodeURIComponent(part.replaceAll("+", " "));
  } catch {
    throw stripeErrors.malformedBody(`The request holds invalid percent-encoding: "${part.slice(0, 40)}".`);
  }
}

/** The path of a key: `metadata[order_id]` → ["metadata", "order_id"]; `expand[]` → ["expand", ""]. */
function keyPath(key: string): string[] {
  const match = keyPattern.exec(key);
  if (match === null) throw stripeErrors.malformedBody(`"${key.slice(0, 60)}" is not a valid parameter name.`);
  const [, name, brackets] = match as unknown as [string, string, string];
  const segments = brackets === "" ? [] : brackets.slice(1, -1).split("][");
  if (segments.length > maxDepth) throw stripeErrors.malformedBody(`"${key.slice(0, 60)}" is nested too deeply.`);
  return [name, ...segments];
}

type Node = string | Node[] | Map<string, Node>;

function conflict(path: string[]): never {
  const [name, ...rest] = path;
  const shown = `${name}${rest.map((segment) => `[${segment}]`).join("")}`;
  throw stripeErrors.malformedBody(`The parameter ${shown} is given both as a value and as a hash or list.`);
}

function insert(container: Map<string, Node> | Node[], path: string[], depth: number, value: string): void {
  const segment = path[depth] as string;
  const last = depth === path.length - 1;
  const nextIsList = !last && path[depth + 1] === "";
  if (Array.isArray(container)) {
    // `[]` appends; a list holds values, or hashes when the key goes on (`items[][price]`).
    if (last) {
      container.push(value);
      return;
    }
    const child: Node = nextIsList ? [] : new Map();
    container.push(child);
    insert(child, path, depth + 1, value);
    return;
  }
  if (last) {
    const existing = container.get(segment);
    if (existing !== undefined && typeof existing !== "string") conflict(path);
    container.set(segment, value);
    return;
  }
  let child = container.get(segment);
  if (child === undefined) {
    child = nextIsList ? [] : new Map();
    container.set(segment, child);
  }
  if (typeof child === "string" || Array.isArray(child) !== nextIsList) conflict(path);
  insert(child, path, depth + 1, value);
}

function toValue(node: Node): FormValue {
  if (typeof node === "string") return node;
  if (Array.isArray(node)) return node.map(toValue);
  return Object.fromEntries([...node].map(([key, child]) => [key, toValue(child)]));
}

/**
 * Reads a form-encoded body or query string into nested parameters, as Stripe's API reads them. Undecodable input
 * is refused with a Stripe error, never thrown as anything else.
 */
export function parseFormParams(text: string): FormParams {
  const root = new Map<string, Node>();
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const separator = pair.indexOf("=");
    const key = decode(separator === -1 ? pair : pair.slice(0, separator));
    const value = separator === -1 ? "" : decode(pair.slice(separator + 1));
    const path = keyPath(key);
    if (path[1] === "") {
      // A top-level list: `expand[]=…`.
      let list = root.get(path[0] as string);
      if (list === undefined) root.set(path[0] as string, (list = []));
      if (!Array.isArray(list)) conflict(path);
      insert(list, path, 1, value);
    } else {
      insert(root, path, 0, value);
    }
  }
  return toValue(root) as FormParams;
}

/** JSON with sorted keys, so two requests with the same parameters in another order compare equal. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${canonicalJson(child)}`).join(",")}}`;
}
