import { Code, ConnectError } from "@connectrpc/connect";
import type { AnyRequest } from "@shop/platform";

/**
 * Reads a request body whole, refusing it with ResourceExhausted from its content-length, or as soon as what arrives
 * passes `maxBytes`, so nothing oversized is buffered or forwarded. Every RPC of the contract takes one request
 * message, so holding it whole costs no streaming.
 */
export function readRequestBody(req: AnyRequest, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new ConnectError(`request body is larger than ${maxBytes} bytes`, Code.ResourceExhausted);
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = () => {
      cleanup();
      reject(new ConnectError("the request body was cut off", Code.Canceled));
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onError);
  });
}
