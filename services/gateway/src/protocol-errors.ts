import type { ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";
import { Code, type ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";

type Response = ServerResponse | Http2ServerResponse;

function codeName(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`));
}

/**
 * Answers a call the gateway refuses (auth, unknown route, upstream down) in the caller's own protocol, so every
 * client library surfaces it as a normal RPC error with the right code.
 */
export function writeProtocolError(
  contentType: string,
  res: Response,
  error: ConnectError,
  extraHeaders: Record<string, string>,
): void {
  const headers: Record<string, string> = { ...extraHeaders };
  if (contentType.startsWith("application/grpc")) {
    // gRPC and gRPC-web: a trailers-only response, the status in the headers and no body.
    headers["content-type"] = contentType;
    headers["grpc-status"] = String(error.code);
    headers["grpc-message"] = encodeURIComponent(error.rawMessage);
    res.writeHead(200, headers).end();
    return;
  }
  const body = JSON.stringify({ code: codeName(error.code), message: error.rawMessage });
  if (contentType.startsWith("application/connect+")) {
    // Connect streaming: an end-of-stream frame carrying the error.
    const payload = Buffer.from(JSON.stringify({ error: { code: codeName(error.code), message: error.rawMessage } }));
    const frame = Buffer.alloc(5 + payload.length);
    frame.writeUInt8(0b10, 0);
    frame.writeUInt32BE(payload.length, 1);
    payload.copy(frame, 5);
    headers["content-type"] = contentType;
    res.writeHead(200, headers).end(frame);
    return;
  }
  headers["content-type"] = "application/json";
  res.writeHead(codeToHttpStatus(error.code), headers).end(body);
}
