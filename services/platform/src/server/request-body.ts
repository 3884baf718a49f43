import { promisify } from "node:util";
import zlib from "node:zlib";
import { type DescMethod, fromBinary, type Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AnyRequest } from "./dual-protocol-server.js";
import { drainRefusedBody, refusedBodyDrain } from "./refused-body.js";

// Reading a call's request body, shared by connect-es's path and the platform's own Connect unary path.

const gunzip = promisify(zlib.gunzip);
const brotliDecompress = promisify(zlib.brotliDecompress);

/** Decompresses `bytes` with the named encoding, never to more than `maxBytes`; undefined for an unknown encoding. */
export async function decompress(
  encoding: string,
  bytes: Uint8Array,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  try {
    if (encoding === "gzip") return await gunzip(bytes, { maxOutputLength: maxBytes });
    if (encoding === "br") return await brotliDecompress(bytes, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || err instanceof RangeError) {
      throw new ConnectError(`request is larger than ${maxBytes} bytes once decompressed`, Code.ResourceExhausted);
    }
    throw new ConnectError(`request body is not valid ${encoding}`, Code.InvalidArgument);
  }
  return undefined;
}

/**
 * The method's request message from its binary encoding; InvalidArgument when `bytes` is not one (connect-es reports
 * undecodable binary as Internal, but a malformed request is the caller's fault).
 */
export function decodeRequest(method: DescMethod, bytes: Uint8Array): Message {
  try {
    return fromBinary(method.input, bytes);
  } catch (err) {
    throw new ConnectError(
      `request body is not a valid ${method.input.typeName}: ${(err as Error).message}`,
      Code.InvalidArgument,
    );
  }
}

/**
 * Reads a request body whole (it is one message: the contract has no client streams) straight from the Node stream,
 * cheaper than connect-es's async iteration of it, and never more than `maxBytes` (a larger declared length is refused
 * before anything is read). A body refused as too large is read to its end (bounded) before the refusal: connect-es
 * reads at most 256 KiB of what is left and closes the connection, which loses the answer for a caller still sending.
 */
export async function readBody(req: AnyRequest, maxBytes: number): Promise<Uint8Array> {
  try {
    return await readWhole(req, maxBytes);
  } catch (err) {
    if (ConnectError.from(err).code === Code.ResourceExhausted) {
      await drainRefusedBody(req, refusedBodyDrain.bytesPerCapByte * maxBytes, refusedBodyDrain.ms);
    }
    throw err;
  }
}

function readWhole(req: AnyRequest, maxBytes: number): Promise<Uint8Array> {
  const header = req.headers["content-length"];
  const declared = header === undefined || !/^\d{1,15}$/.test(header) ? undefined : Number(header);
  if (declared !== undefined && declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on("data", (chunk: Buffer) => {
      if (settled) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        settled = true;
        reject(tooLarge(maxBytes));
      } else chunks.push(chunk);
    });
    // `on`, not `once`: each fires at most once per request, and a once-wrapper per listener per call is waste.
    req.on("end", () => {
      if (settled) return;
      settled = true;
      if (declared !== undefined && size !== declared) {
        reject(new ConnectError(`protocol error: promised ${declared} bytes, received ${size}`, Code.InvalidArgument));
      } else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.on("close", () => {
      if (settled) return;
      settled = true;
      reject(new ConnectError("the caller went away before sending the whole request", Code.Canceled));
    });
    req.on("error", (err: Error) => {
      if (settled) return;
      settled = true;
      reject(ConnectError.from(err, Code.Canceled));
    });
  });
}

function tooLarge(maxBytes: number): ConnectError {
  return new ConnectError(`request body is larger than ${maxBytes} bytes`, Code.ResourceExhausted);
}
