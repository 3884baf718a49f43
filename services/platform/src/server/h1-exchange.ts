import type { IncomingMessage, ServerResponse } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";

// An HTTP/1.1 unary call's request and response for connect-es, cheaper than connect-node's general adapter (the
// search benchmark's profiles of the service), for the calls connect-unary.ts leaves to connect-es (gRPC-web, GET, a
// compressed request):
//   - connect-node aborts every request's signal when its response closes, with no reason, so Node 20 builds a
//     DOMException with a stack trace on every call. Here the signal is aborted only when the caller goes away before
//     the answer is written, and always with a reason.
//   - connect-node writes an answer without a length (gRPC-web's) as a chunked body ended by a write of its own: two
//     sends on the socket and two reads at the caller. Here a unary answer goes out whole with its length, in one send,
//     without connect-node's read of what is left of the request body.
// HTTP/2 (gRPC) and streamed answers keep connect-node's adapter.

/** A request's headers as the fetch API's `Headers`, which connect-es and interceptors read. */
export function requestHeaders(req: IncomingMessage): Headers {
  const header = new Headers();
  for (const name in req.headers) {
    const value = req.headers[name];
    if (typeof value === "string") header.append(name, value);
    else if (value !== undefined) for (const each of value) header.append(name, each);
  }
  return header;
}

/** The request as connect-es reads it; `body` is replaced by the caller with what it read. */
export function h1UniversalRequest(
  req: IncomingMessage,
  res: ServerResponse,
  body: UniversalServerRequest["body"],
): UniversalServerRequest {
  const abort = new AbortController();
  const onClose = () => {
    req.off("error", onError);
    // Finished: the call is over, and nothing is left that the signal could stop.
    if (!res.writableFinished) abort.abort(new ConnectError("the caller went away", Code.Canceled));
  };
  const onError = (err: Error) => {
    res.off("close", onClose);
    abort.abort(ConnectError.from(err, Code.Canceled));
  };
  req.once("error", onError);
  res.once("close", onClose);
  return {
    httpVersion: req.httpVersion,
    method: req.method ?? "",
    // Only the path and query are read (a GET call's message); the Host header is the caller's to garble.
    url: `http://localhost${req.url ?? "/"}`,
    header: requestHeaders(req),
    body,
    signal: abort.signal,
  };
}

/**
 * Writes a unary call's answer whole, with its length, in one send. The caller has read the whole request body, so the
 * connection stays usable without connect-node's drain of what is left of it. Answers with HTTP trailers (gRPC's,
 * over HTTP/2 only) are not for this.
 */
export async function writeWholeResponse(uRes: UniversalServerResponse, res: ServerResponse): Promise<void> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (uRes.body !== undefined) {
    for await (const chunk of uRes.body) {
      chunks.push(chunk);
      size += chunk.byteLength;
    }
  }
  const header = uRes.header instanceof Headers ? uRes.header : new Headers(uRes.header);
  writeWhole(res, uRes.status, header, chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, size));
}

/**
 * Sends an answer whole with its length in one send: `header`, then `trailer` (if any) as Connect unary carries
 * trailers, as `trailer-` prefixed headers.
 */
export function writeWhole(
  res: ServerResponse,
  status: number,
  header: Headers,
  body: Uint8Array,
  trailer?: Headers,
): void {
  const headers: Record<string, string> = {};
  header.forEach((value, key) => {
    headers[key] = value;
  });
  trailer?.forEach((value, key) => {
    headers[`trailer-${key}`] = value;
  });
  headers["content-length"] = String(body.byteLength);
  res.writeHead(status, headers);
  res.end(body);
}
