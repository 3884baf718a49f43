import type { ServerResponse } from "node:http";
import type { DescMethod } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createConnectRouter,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";
import { errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { isConnectUnary, recordingRouter, serveConnectUnary } from "./connect-unary.js";
import { callerDeadlineKey, clampDeadline } from "./deadline-header.js";
import type { AnyRequest, AnyResponse } from "./dual-protocol-server.js";
import { h1UniversalRequest, writeWholeResponse } from "./h1-exchange.js";
import { decodeRequest, decompress, readBody } from "./request-body.js";

/** gRPC's own default cap on a received message, and ours for a whole request body. */
export const defaultMaxRequestBytes = 4 * 1024 * 1024;

export interface RpcHandlerOptions {
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  /** Answers paths outside the router (probes, metrics). */
  fallback: (req: AnyRequest, res: AnyResponse) => void;
  /** Largest request body accepted; larger ones are refused with ResourceExhausted before they are parsed. */
  maxRequestBytes: number;
  /** Longest a call may run: a caller's longer (or missing) deadline is cut to this. */
  maxTimeoutMs: number;
}

/**
 * A body of one chunk already read, as the stream connect-es reads. A class rather than an async generator or
 * closures: it is made on every call.
 */
class OneChunk implements AsyncIterable<Uint8Array>, AsyncIterator<Uint8Array> {
  constructor(private bytes: Uint8Array | undefined) {}

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const value = this.bytes;
    this.bytes = undefined;
    return Promise.resolve(value === undefined ? { done: true, value: undefined } : { done: false, value });
  }
}

/** The body of a GET call, whose message is in the query; a POST's body is replaced with what was read. */
const noBody = new OneChunk(undefined);

const wireFormats = new Map<string, { binary: boolean; enveloped: boolean }>();

/**
 * The wire format of a request, from its content type: enveloped (gRPC, gRPC-web, Connect streaming) and binary.
 * Memoized: a server sees a handful of distinct content types.
 */
function wireFormat(contentType: string): { binary: boolean; enveloped: boolean } {
  let format = wireFormats.get(contentType);
  if (format === undefined) {
    const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
    const enveloped = type.startsWith("application/grpc") || type.startsWith("application/connect+");
    format = { binary: type === "application/proto" || (enveloped && !type.endsWith("json")), enveloped };
    if (wireFormats.size < 64) wireFormats.set(contentType, format);
  }
  return format;
}

/**
 * The request body to hand connect-es: the bytes read, as a one-chunk stream. A binary one is checked to decode first:
 * connect-es reports undecodable binary as Internal, but a malformed request is the caller's fault. A refusal becomes a
 * stream that fails with it, so connect-es answers it in the caller's protocol.
 */
async function checkedBody(
  req: AnyRequest,
  uReq: UniversalServerRequest,
  method: DescMethod,
  format: { binary: boolean; enveloped: boolean },
  maxBytes: number,
): Promise<UniversalServerRequest["body"]> {
  try {
    const bytes = await readBody(req, maxBytes);
    if (!format.binary) return new OneChunk(bytes);
    if (!format.enveloped) {
      const encoding = uReq.header.get("content-encoding");
      const plain = encoding && encoding !== "identity" ? await decompress(encoding, bytes, maxBytes) : bytes;
      if (plain !== undefined && plain.byteLength > 0) decodeRequest(method, plain);
      return new OneChunk(bytes);
    }
    const encoding = uReq.header.get("grpc-encoding") ?? uReq.header.get("connect-content-encoding") ?? "identity";
    for (let offset = 0; offset + 5 <= bytes.byteLength; ) {
      const flags = bytes[offset] ?? 0;
      const length =
        (((bytes[offset + 1] ?? 0) << 24) >>> 0) +
        ((bytes[offset + 2] ?? 0) << 16) +
        ((bytes[offset + 3] ?? 0) << 8) +
        (bytes[offset + 4] ?? 0);
      const payload = bytes.subarray(offset + 5, offset + 5 + length);
      if (payload.byteLength !== length) break; // a truncated frame: connect-es reports it as InvalidArgument
      const plain = flags & 0b1 ? await decompress(encoding, payload, maxBytes) : payload;
      // Connect streaming's end-of-stream frame (flag 0b10) carries JSON, not a message.
      if (plain !== undefined && plain.byteLength > 0 && (flags & 0b10) === 0) decodeRequest(method, plain);
      offset += 5 + length;
    }
    return new OneChunk(bytes);
  } catch (err) {
    return (async function* refused(): AsyncIterable<Uint8Array> {
      yield* [];
      throw err;
    })();
  }
}

/** Connect GET requests carry the message in the query; the same check for them. */
function checkGetQuery(url: string, method: DescMethod): void {
  const params = new URL(url, "http://localhost").searchParams;
  if (params.get("encoding") !== "proto" || params.get("compression")) return;
  const message = params.get("message") ?? "";
  let bytes: Uint8Array;
  try {
    bytes = params.get("base64") === "1" ? base64Decode(message) : new TextEncoder().encode(message);
  } catch {
    throw new ConnectError("message query parameter is not valid base64", Code.InvalidArgument);
  }
  decodeRequest(method, bytes);
}

/**
 * A Node request handler for the service's Connect router, like connect-node's adapter, plus what callers must not be
 * able to break: a cap on the request body, a malformed body answered as InvalidArgument in every protocol, and a
 * server-side maximum on how long a call runs.
 */
export function createRpcHandler(options: RpcHandlerOptions): (req: AnyRequest, res: AnyResponse) => void {
  const acceptCompression = [compressionGzip, compressionBrotli];
  const router = createConnectRouter({
    interceptors: options.interceptors,
    readMaxBytes: options.maxRequestBytes,
    // Deadlines are cut before connect-es reads them, so none is ever over the maximum.
    maxTimeoutMs: Number.MAX_SAFE_INTEGER,
    acceptCompression,
  });
  const unary = new Map<DescMethod, Parameters<typeof serveConnectUnary>[3]>();
  options.routes(recordingRouter(router, unary));
  const paths = new Map<string, UniversalHandler>();
  for (const handler of router.handlers) paths.set(handler.requestPath, handler);
  const unaryOptions = {
    interceptors: options.interceptors,
    acceptCompression,
    maxRequestBytes: options.maxRequestBytes,
    maxTimeoutMs: options.maxTimeoutMs,
  };

  return (req, res) => {
    const handler = paths.get(req.url?.split("?", 2)[0] ?? "");
    if (handler === undefined) {
      options.fallback(req, res);
      return;
    }
    // Connect unary POSTs over HTTP/1.1 (what storefronts send) take the platform's own path; the rest connect-es's.
    if (!("stream" in req) && isConnectUnary(req)) {
      const impl = unary.get(handler.method);
      if (impl !== undefined && serveConnectUnary(req, res as ServerResponse, handler.method, impl, unaryOptions))
        return;
    }
    if (req.method === "GET") {
      try {
        checkGetQuery(req.url ?? "", handler.method);
      } catch (err) {
        const error = ConnectError.from(err);
        res.writeHead(400, { "content-type": "application/json" });
        res.end(errorToJsonBytes(error, {}));
        return;
      }
    }
    // The other HTTP/1.1 unary calls (gRPC-web, GET, compressed Connect) take connect-es through the cheaper exchange;
    // HTTP/2 and streams connect-node's.
    const whole = !("stream" in req) && handler.method.methodKind === "unary";
    const request = whole
      ? h1UniversalRequest(req, res as ServerResponse, noBody)
      : universalRequestFromNodeRequest(req, res, undefined, undefined);
    // A call without a deadline gets the maximum from the deadline interceptor, without a timer of its own.
    const timeoutMs = clampDeadline(request.header, options.maxTimeoutMs);
    const uReq =
      timeoutMs === undefined || Number.isNaN(timeoutMs)
        ? request
        : { ...request, contextValues: createContextValues().set(callerDeadlineKey, performance.now() + timeoutMs) };
    // JSON needs no decoding check: connect-es already reports undecodable JSON as InvalidArgument.
    const checked =
      req.method === "GET"
        ? Promise.resolve(uReq)
        : checkedBody(
            req,
            uReq,
            handler.method,
            wireFormat(uReq.header.get("content-type") ?? ""),
            options.maxRequestBytes,
          ).then((body) => ({ ...uReq, body }));
    checked
      .then(handler)
      .then((uRes) =>
        whole && uRes.trailer === undefined
          ? writeWholeResponse(uRes, res as ServerResponse)
          : universalResponseToNodeResponse(uRes, res),
      )
      .catch(() => {
        // The client went away mid-response; there is nobody left to answer.
        if (!res.headersSent) res.destroy();
      });
  };
}
