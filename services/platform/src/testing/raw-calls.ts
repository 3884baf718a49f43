import http from "node:http";
import http2 from "node:http2";
import type { Code } from "@connectrpc/connect";
import { codeFromString, codeToString } from "@connectrpc/connect/protocol-connect";
import type { ProtocolName } from "./test-clients.js";

/** What a hand-made call ended with: the status code name, as each protocol carries it, and the raw HTTP parts. */
export interface RawOutcome {
  /** "ok" or a Code name in snake case, e.g. "invalid_argument". */
  code: string;
  message: string;
  httpStatus: number;
  headers: Record<string, string>;
}

const contentTypes: Record<ProtocolName, string> = {
  "connect-json": "application/json",
  "connect-binary": "application/proto",
  grpc: "application/grpc+proto",
  "grpc-web": "application/grpc-web+proto",
};

/** Wraps a payload in the 5-byte gRPC / Connect-streaming frame. */
export function envelope(payload: Uint8Array, flags = 0): Buffer {
  const frame = Buffer.alloc(5 + payload.byteLength);
  frame.writeUInt8(flags, 0);
  frame.writeUInt32BE(payload.byteLength, 1);
  Buffer.from(payload).copy(frame, 5);
  return frame;
}

function grpcOutcome(status: string | undefined, message: string | undefined): { code: string; message: string } {
  const number = Number(status ?? Number.NaN);
  if (!Number.isInteger(number)) return { code: "missing_status", message: "" };
  return { code: number === 0 ? "ok" : codeToString(number as Code), message: decodeURIComponent(message ?? "") };
}

function flatten(headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return out;
}

/**
 * Sends `body` as it is (already framed for gRPC and gRPC-web when the test wants a valid frame) to `path` over
 * `protocol`, with no client library in between, so a test can send what no well-behaved client would.
 */
export async function rawCall(
  baseUrl: string,
  path: string,
  protocol: ProtocolName,
  body: Uint8Array,
  headers: Record<string, string> = {},
): Promise<RawOutcome> {
  const allHeaders = { "content-type": contentTypes[protocol], ...headers };
  if (protocol === "grpc") return rawGrpcCall(baseUrl, path, body, allHeaders);
  const { status, responseHeaders, responseBody } = await new Promise<{
    status: number;
    responseHeaders: Record<string, string>;
    responseBody: Buffer;
  }>((resolve, reject) => {
    const req = http.request(new URL(path, baseUrl), { method: "POST", headers: allHeaders, agent: false });
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          responseHeaders: flatten(res.headers),
          responseBody: Buffer.concat(chunks),
        }),
      );
      res.on("error", reject);
    });
    // The server may answer and close before reading a body it refuses; that is an answer, not a failure: the
    // write fails (EPIPE, reset) while the answer is still being read, so it gets a moment to arrive.
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE" && err.code !== "ECONNRESET") reject(err);
      else setTimeout(() => answered || reject(err), 1_000);
    });
    req.end(body);
  });
  if (protocol === "grpc-web") {
    let trailer = { code: "missing_status", message: "" };
    if (responseHeaders["grpc-status"] !== undefined) {
      trailer = grpcOutcome(responseHeaders["grpc-status"], responseHeaders["grpc-message"]);
    }
    for (let offset = 0; offset + 5 <= responseBody.length; ) {
      const flags = responseBody.readUInt8(offset);
      const length = responseBody.readUInt32BE(offset + 1);
      if (flags & 0x80) {
        const fields = Object.fromEntries(
          responseBody
            .subarray(offset + 5, offset + 5 + length)
            .toString()
            .split("\r\n")
            .filter((line) => line.includes(":"))
            .map((line) => [
              line.slice(0, line.indexOf(":")).trim().toLowerCase(),
              line.slice(line.indexOf(":") + 1).trim(),
            ]),
        );
        trailer = grpcOutcome(fields["grpc-status"], fields["grpc-message"]);
      }
      offset += 5 + length;
    }
    return { ...trailer, httpStatus: status, headers: responseHeaders };
  }
  if (status === 200) return { code: "ok", message: "", httpStatus: status, headers: responseHeaders };
  let parsed: { code?: string; message?: string } = {};
  try {
    parsed = JSON.parse(responseBody.toString());
  } catch {
    parsed = { code: "unparseable_body" };
  }
  const known = parsed.code !== undefined && codeFromString(parsed.code) !== undefined;
  return {
    code: known ? String(parsed.code) : "unparseable_body",
    message: parsed.message ?? "",
    httpStatus: status,
    headers: responseHeaders,
  };
}

async function rawGrpcCall(
  baseUrl: string,
  path: string,
  body: Uint8Array,
  headers: Record<string, string>,
): Promise<RawOutcome> {
  const session = http2.connect(baseUrl);
  try {
    return await new Promise<RawOutcome>((resolve, reject) => {
      session.on("error", reject);
      const stream = session.request({ ":method": "POST", ":path": path, te: "trailers", ...headers });
      let responseHeaders: Record<string, string> = {};
      let trailers: Record<string, string> = {};
      stream.on("response", (h) => {
        responseHeaders = flatten(h);
      });
      stream.on("trailers", (t) => {
        trailers = flatten(t);
      });
      stream.on("data", () => undefined);
      stream.on("close", () => {
        const status = trailers["grpc-status"] ?? responseHeaders["grpc-status"];
        const message = trailers["grpc-message"] ?? responseHeaders["grpc-message"];
        if (status === undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
          resolve({ code: "stream_reset", message: `RST_STREAM ${stream.rstCode}`, httpStatus: 0, headers: {} });
          return;
        }
        resolve({
          ...grpcOutcome(status, message),
          httpStatus: Number(responseHeaders[":status"] ?? 0),
          headers: { ...responseHeaders, ...trailers },
        });
      });
      stream.on("error", () => undefined);
      stream.end(body);
    });
  } finally {
    session.close();
  }
}
