import type { IncomingHttpHeaders } from "node:http";
import { cors } from "@connectrpc/connect";

export interface CorsPolicy {
  /** Headers for every response to the request's origin; empty when the origin is not allowed. */
  headersFor(headers: IncomingHttpHeaders): Record<string, string>;
  /** Headers answering a preflight request; empty when the origin is not allowed. */
  preflightHeaders(headers: IncomingHttpHeaders): Record<string, string>;
}

/** CORS for browser storefronts: Connect and gRPC-web headers, plus our auth and request-id headers. */
export function createCorsPolicy(allowedOrigins: string[]): CorsPolicy {
  const anyOrigin = allowedOrigins.includes("*");
  const exposed = [...cors.exposedHeaders, "x-request-id"].join(", ");
  const allowHeaders = [...cors.allowedHeaders, "authorization", "x-api-key", "x-request-id"].join(", ");
  const headersFor = (headers: IncomingHttpHeaders): Record<string, string> => {
    const origin = headers.origin;
    if (origin === undefined || (!anyOrigin && !allowedOrigins.includes(origin))) return {};
    return {
      "access-control-allow-origin": anyOrigin ? "*" : origin,
      vary: "origin",
      "access-control-expose-headers": exposed,
    };
  };
  return {
    headersFor,
    preflightHeaders(headers) {
      const base = headersFor(headers);
      if (Object.keys(base).length === 0) return {};
      return {
        ...base,
        "access-control-allow-methods": cors.allowedMethods.join(", "),
        "access-control-allow-headers": allowHeaders,
        "access-control-max-age": "7200",
      };
    },
  };
}
