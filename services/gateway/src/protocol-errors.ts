import type { ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";
import type { ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, endStreamToJson, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";

type Response = ServerResponse | Http2ServerResponse;

/**
 * Answers a call the gateway refuses (auth, limits, unknown route, upstream down, deadline) in the caller's own
 * protocol, with the error's typed details, so every client library — connect-es, grpc-js, gRPC C-core, browsers —
 * surfaces it as a normal RPC error with the right code.
 */
export function writeProtocolError(
  contentType: string,
  res: Response,
  error: ConnectError,
  extraHeaders: Record<string, string>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { ...extraHeaders };
  if (contentType.startsWith("application/grpc")) {
    // gRPC and gRPC-web: a trailers-only response, the status (and details) in the headers and no body.
    headers["content-type"] = contentType;
    setTrailerStatus(new Headers(), error).forEach((value, name) => {
      headers[name] = value;
    });
    if ("stream" in res) {
      // Over HTTP/2 the headers must end the stream themselves: a HEADERS frame followed by an empty DATA frame is
      // a response without trailers, which C-core clients report as UNKNOWN "Stream removed".
      res.stream.respond({ ...headers, ":status": 200 }, { endStream: true });
      return;
    }
    res.writeHead(200, headers).end();
    return;
  }
  if (contentType.startsWith("application/connect+")) {
    // Connect streaming: an end-of-stream frame carrying the error.
    const payload = Buffer.from(JSON.stringify(endStreamToJson(new Headers(), error, undefined)));
    const frame = Buffer.alloc(5 + payload.length);
    frame.writeUInt8(0b10, 0);
    frame.writeUInt32BE(payload.length, 1);
    payload.copy(frame, 5);
    headers["content-type"] = contentType;
    res.writeHead(200, headers).end(frame);
    return;
  }
  headers["content-type"] = "application/json";
  res.writeHead(codeToHttpStatus(error.code), headers).end(errorToJsonBytes(error, {}));
}
