import type { Server as Http1Server } from "node:http";
import type { Http2Server } from "node:http2";
import net from "node:net";

const http2Preface = Buffer.from("PRI * HTTP/2.0");

/**
 * One TCP port for HTTP/1.1 (Connect, gRPC-web, probes) and cleartext HTTP/2 (gRPC): peeks at the first bytes of
 * each connection and hands the socket to the matching server. No HTTP/1 method starts with "PRI".
 */
export function createSniffingListener(http1: Http1Server, http2: Http2Server): net.Server {
  return net.createServer({ noDelay: true }, (socket) => {
    socket.once("data", (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      const isHttp2 = first
        .subarray(0, http2Preface.length)
        .equals(http2Preface.subarray(0, Math.min(first.length, http2Preface.length)));
      // The HTTP/2 session reads what is buffered itself and then consumes the socket natively; only HTTP/1 needs
      // the stream flowing again.
      if (isHttp2) http2.emit("connection", socket);
      else {
        http1.emit("connection", socket);
        socket.resume();
      }
    });
    socket.on("error", () => socket.destroy());
  });
}
