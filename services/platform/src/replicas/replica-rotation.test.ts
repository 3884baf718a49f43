import { describe, expect, it } from "vitest";
import { createReplicaRotation, isConnectionRefused } from "./replica-rotation.js";

const urls = ["http://a:1", "http://b:1", "http://c:1"];

describe("a replica rotation", () => {
  it("starts each call at the next replica, so calls spread evenly", () => {
    const rotation = createReplicaRotation(urls);
    const firsts = Array.from({ length: 6 }, () => rotation.next()[0]);
    expect(firsts).toEqual([...urls, ...urls]);
    expect(rotation.next()).toEqual(urls);
  });

  it("puts a replica kept out behind the others until its time is up, but still names it", () => {
    let now = 1_000;
    const rotation = createReplicaRotation(urls, { keepOutMs: 5_000, now: () => now });
    rotation.keepOut("http://a:1");
    expect(rotation.next()).toEqual(["http://b:1", "http://c:1", "http://a:1"]);
    expect(rotation.next()).toEqual(["http://b:1", "http://c:1", "http://a:1"]);
    expect(rotation.keptOut()).toEqual(["http://a:1"]);
    now += 5_000;
    expect(rotation.keptOut()).toEqual([]);
    expect(rotation.next()).toEqual(["http://c:1", "http://a:1", "http://b:1"]);
  });

  it("tells a refused connection from a call that broke after it was sent", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(isConnectionRefused(refused)).toBe(true);
    expect(isConnectionRefused(new Error("stream cancelled", { cause: refused }))).toBe(true);
    expect(isConnectionRefused(reset)).toBe(false);
    expect(isConnectionRefused(new Error("stream cancelled", { cause: reset }))).toBe(false);
  });
});
