import type { Socket } from "node:net";
import type { AnyRequest } from "./dual-protocol-server.js";

/** How much of a refused body is read and dropped, past the cap, and for how long, before the connection is closed. */
export const refusedBodyDrain = { bytesPerCapByte: 4, ms: 5_000 };

/**
 * Reads and drops the rest of a refused HTTP/1.1 body so a caller still sending it reads the refusal: a connection
 * closed with unread data is reset, and the reset discards an answer the caller has not read yet (clients that send
 * the whole body before reading, as Node's does, always lose it). Bounded: past `maxBytes` more, or `maxMs`, the
 * connection is closed anyway. Resolves true once the body was read to its end, false when it gave up (or for
 * HTTP/2, where the server resets the stream instead).
 */
export function drainRefusedBody(req: AnyRequest, maxBytes: number, maxMs: number): Promise<boolean> {
  if (req.readableEnded || req.complete) return Promise.resolve(true);
  const declared = Number(req.headers["content-length"]);
  if (req.httpVersionMajor !== 1 || (Number.isFinite(declared) && declared > maxBytes)) return Promise.resolve(false);
  const drained = new Promise<boolean>((resolve) => {
    let left = maxBytes;
    const finish = (ended: boolean) => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
      if (!ended) req.socket.destroy();
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      left -= chunk.length;
      if (left < 0) finish(false);
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(req.complete);
    const timer = setTimeout(() => finish(false), maxMs);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("close", onClose);
    req.resume();
  });
  // A caller that sent `connection: close` has its connection closed once the answer is written; close only our
  // side then, and the whole connection once the body is read (Node would reset it with the body unread).
  const socket = req.socket as Socket & { destroySoon?: () => void };
  socket.destroySoon = () => {
    socket.end();
    void drained.then(() => socket.destroy());
  };
  return drained;
}
