import type { IncomingMessage, ServerResponse } from "node:http";
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromJsonString,
  type MessageShape,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  createContextValues,
  createServiceImplSpec,
  type HandlerContext,
  type Interceptor,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { type Compression, compressionNegotiate, mergeNonProtocolHeaders } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes, parseContentType } from "@connectrpc/connect/protocol-connect";
import { callerDeadlineKey, clampDeadline, deadlinePassed } from "./deadline-header.js";
import { requestHeaders, writeWhole } from "./h1-exchange.js";
import { decodeRequest, readBody } from "./request-body.js";

// The Connect protocol's unary POST over HTTP/1.1, served without connect-es's general handler. That handler is built
// for every protocol and every kind of stream, and per call the search benchmark's profiles of the service found it
// copying the request headers twice, making three abort controllers (one for a deadline the call may not have), a
// DOMException for the `abort()` that ends every call (Node 20 captures its stack), iterating a one-chunk body and
// answer, and decoding a binary request twice (once here, to tell a malformed one from a server fault). This path does
// each of those once or not at all, and runs the same interceptors around the same implementations with the same
// request and context shapes. Everything else (gRPC, gRPC-web, GET, streams, a compressed request, a malformed
// deadline) keeps connect-es.

/** A unary implementation as connect-es calls it: the request message and the handler context. */
type UnaryImpl = (request: unknown, context: HandlerContext) => unknown;

/**
 * Registers with `router` and notes each unary implementation registered without options of its own, so that this
 * path calls the same function connect-es would (unimplemented methods included: connect-es's spec throws
 * Unimplemented for them).
 */
export function recordingRouter(router: ConnectRouter, unary: Map<DescMethod, UnaryImpl>): ConnectRouter {
  const recording: ConnectRouter = {
    get handlers() {
      return router.handlers;
    },
    service(service, implementation, options) {
      if (options === undefined) {
        const spec = createServiceImplSpec(service, implementation);
        for (const method of service.methods) {
          const impl = spec.methods[method.localName];
          if (impl?.kind === "unary") unary.set(method, impl.impl as UnaryImpl);
        }
      }
      router.service(service, implementation, options);
      return recording;
    },
    rpc(method, impl, options) {
      if (options === undefined && method.methodKind === "unary") unary.set(method, impl as UnaryImpl);
      router.rpc(method, impl, options);
      return recording;
    },
  };
  return recording;
}

/** Connect's unary content types, binary or not; memoized, as a server sees a handful of distinct ones. */
const unaryTypes = new Map<string, { binary: boolean } | null>();

/** Whether a call is one this path answers: a POST in Connect's unary protocol whose body is not compressed. */
export function isConnectUnary(req: IncomingMessage): boolean {
  if (req.method !== "POST") return false;
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined && encoding !== "identity") return false;
  return connectUnaryType(req.headers["content-type"] ?? "") !== null;
}

function connectUnaryType(contentType: string): { binary: boolean } | null {
  let type = unaryTypes.get(contentType);
  if (type === undefined) {
    const parsed = parseContentType(contentType);
    type = parsed === undefined || parsed.stream ? null : { binary: parsed.binary };
    if (unaryTypes.size < 64) unaryTypes.set(contentType, type);
  }
  return type;
}

/** Answer compressions, as the router offers them; a request's compression is left to connect-es. */
export interface ConnectUnaryOptions {
  interceptors: Interceptor[];
  acceptCompression: Compression[];
  maxRequestBytes: number;
  maxTimeoutMs: number;
}

/** The same as connect-es's smallest answer it compresses. */
const compressMinBytes = 1024;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
const noTimeout = () => undefined;
/** The reason the signal of a call that ended is aborted with: connect-es ends every call's signal. */
const callEnded = new ConnectError("the call has ended", Code.Canceled);

/**
 * Serves one Connect unary POST over HTTP/1.1 (`isConnectUnary`) with `impl`. Answers as connect-es does: the
 * message, or the error as JSON with its HTTP status, headers and `trailer-` prefixed trailers, compressed when the
 * caller accepts it and the answer is large enough. Returns false, having done nothing, for a call it leaves to
 * connect-es (a malformed deadline, which connect-es refuses in its own words).
 */
export function serveConnectUnary(
  req: IncomingMessage,
  res: ServerResponse,
  method: DescMethod,
  impl: UnaryImpl,
  options: ConnectUnaryOptions,
): boolean {
  const header = requestHeaders(req);
  const timeoutMs = clampDeadline(header, options.maxTimeoutMs);
  if (Number.isNaN(timeoutMs)) return false;
  const type = connectUnaryType(header.get("content-type") ?? "") ?? { binary: true };
  const endsAt = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  const signal = new LazySignal(endsAt);
  res.once("close", () => {
    if (!res.writableFinished) signal.abort(new ConnectError("the caller went away", Code.Canceled));
  });
  const values: ContextValues = createContextValues();
  if (endsAt !== undefined) values.set(callerDeadlineKey, endsAt);
  const context = new UnaryContext(method, header, type.binary, values, `http://localhost${req.url ?? "/"}`, signal);
  answer(req, context, type.binary, impl, options)
    .then(({ status, body }) => write(res, context, options, status, body))
    .catch(() => {
      // The caller went away mid-answer; nobody is left to answer.
      if (!res.headersSent) res.destroy();
    })
    .finally(() => signal.abort(callEnded));
  return true;
}

/**
 * A call's abort signal, made when something first reads it: most calls end without anything listening, and an
 * AbortController with its signal is among the dearest things a call would otherwise make. Aborted when the caller
 * goes away, when its deadline passes (a timer armed only once the signal exists) and when the call ends.
 */
class LazySignal {
  private controller: AbortController | undefined;
  private reason: unknown;
  private timer: NodeJS.Timeout | undefined;

  /** `endsAt`: when the caller's deadline passes, as a `performance.now()` time. */
  constructor(private readonly endsAt: number | undefined) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
      else if (this.endsAt !== undefined) {
        this.timer = setTimeout(() => this.abort(deadlinePassed()), Math.max(0, this.endsAt - performance.now()));
      }
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    clearTimeout(this.timer);
    this.controller?.abort(reason);
  }
}

/** The handler context connect-es would give, with its signal made only when read. */
class UnaryContext implements HandlerContext {
  readonly service: DescService;
  readonly requestMethod = "POST";
  readonly protocolName = "connect";
  readonly responseHeader: Headers;
  readonly responseTrailer = new Headers();
  readonly timeoutMs: () => number | undefined;

  constructor(
    readonly method: DescMethod,
    readonly requestHeader: Headers,
    binary: boolean,
    readonly values: ContextValues,
    readonly url: string,
    private readonly lazy: LazySignal,
  ) {
    this.service = method.parent;
    this.responseHeader = new Headers({ "content-type": binary ? "application/proto" : "application/json" });
    const endsAt = values.get(callerDeadlineKey);
    this.timeoutMs = endsAt === undefined ? noTimeout : () => endsAt - performance.now();
  }

  get signal(): AbortSignal {
    return this.lazy.signal;
  }
}

/** The call's status and body, and the trailers to send; the headers are the context's. */
async function answer(
  req: IncomingMessage,
  context: UnaryContext,
  binary: boolean,
  impl: UnaryImpl,
  options: ConnectUnaryOptions,
): Promise<{ status: number; body: Uint8Array }> {
  const { method } = context;
  try {
    const bytes = await readBody(req, options.maxRequestBytes);
    const message = binary ? decodeRequest(method, bytes) : decodeJson(method.input, bytes);
    const response = await invoke(context, message, impl, options.interceptors);
    copyHeaders(response.header, context.responseHeader);
    copyHeaders(response.trailer, context.responseTrailer);
    const output = binary
      ? toBinary(method.output, response.message)
      : textEncoder.encode(toJsonString(method.output, response.message));
    return { status: 200, body: output };
  } catch (err) {
    const error =
      err instanceof ConnectError ? err : new ConnectError("internal error", Code.Internal, undefined, undefined, err);
    context.responseHeader.set("content-type", "application/json");
    if (!error.isWireError) mergeNonProtocolHeaders(context.responseHeader, error.metadata);
    return { status: codeToHttpStatus(error.code), body: errorToJsonBytes(error, {}) };
  }
}

/** Makes `to` hold what `from` holds, as connect-es does with what an interceptor answers. */
function copyHeaders(from: Headers, to: Headers): void {
  if (from === to) return;
  const names: string[] = [];
  to.forEach((_, name) => {
    names.push(name);
  });
  for (const name of names) to.delete(name);
  from.forEach((value, name) => {
    to.append(name, value);
  });
}

/** A JSON request as connect-es reads one: unknown fields ignored, anything unreadable the caller's fault. */
function decodeJson<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  try {
    return fromJsonString(schema, textDecoder.decode(bytes), { ignoreUnknownFields: true });
  } catch (err) {
    throw ConnectError.from(err, Code.InvalidArgument);
  }
}

/** Runs the interceptors around the implementation, with the request and context connect-es would give them. */
function invoke(
  context: UnaryContext,
  message: unknown,
  impl: UnaryImpl,
  interceptors: Interceptor[],
): Promise<UnaryResponse> {
  const { method, service } = context;
  const request: UnaryRequest = {
    stream: false,
    message,
    method,
    service,
    requestMethod: context.requestMethod,
    url: context.url,
    get signal() {
      return context.signal;
    },
    header: context.requestHeader,
    contextValues: context.values,
  } as UnaryRequest;
  let next = async (req: UnaryRequest): Promise<UnaryResponse> => {
    // An interceptor may pass on a request of its own; the implementation sees what it passed, as with connect-es.
    const handlerContext: HandlerContext =
      req === request
        ? context
        : {
            ...context,
            service: req.service,
            requestHeader: req.header,
            signal: req.signal,
            values: req.contextValues,
          };
    const output = await impl(req.message, handlerContext);
    return {
      stream: false,
      message: create(method.output, output as MessageShape<DescMessage>),
      method,
      service,
      header: context.responseHeader,
      trailer: context.responseTrailer,
    } as UnaryResponse;
  };
  for (let i = interceptors.length - 1; i >= 0; i--) {
    next = (interceptors[i] as Interceptor)(next as never) as typeof next;
  }
  return next(request);
}

/** Writes the answer whole with its length in one send, compressed when the caller accepts it and it is large. */
async function write(
  res: ServerResponse,
  context: HandlerContext,
  options: ConnectUnaryOptions,
  status: number,
  body: Uint8Array,
): Promise<void> {
  const accepted = context.requestHeader.get("accept-encoding");
  let out = body;
  if (accepted !== null && body.byteLength >= compressMinBytes) {
    const compression = compressionNegotiate(options.acceptCompression, null, accepted, "accept-encoding").response;
    if (compression !== null) {
      out = await compression.compress(body);
      context.responseHeader.set("content-encoding", compression.name);
    }
  }
  writeWhole(res, status, context.responseHeader, out, context.responseTrailer);
}
