import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { base64Decode, base64Encode } from "@bufbuild/protobuf/wire";
import { CollectionSchema } from "@shop/contracts/shop/products/v1/product_pb.js";
import type { CatalogSeed, StreamPositions } from "../catalog-read-model.js";
import { CatalogProjection, type ProjectionRecord } from "../domain/catalog-projection.js";

const fileName = "catalog-snapshot.ndjson";
const format = "shop-search-snapshot/1";

/** One line per record; products and collections as base64 protobuf, versions and stock as decimal strings. */
type Line =
  | { t: "meta"; format: string; positions: StreamPositions; savedAt: string }
  | { t: "p"; id: string; v: string; skus: string[]; b?: string }
  | { t: "s"; sku: string; v: string; a: string }
  | { t: "c"; v: string; b: string };

function lineOf(record: ProjectionRecord): Line {
  switch (record.kind) {
    case "product":
      return {
        t: "p",
        id: record.id,
        v: String(record.version),
        skus: record.skus,
        b: record.encoded ? base64Encode(record.encoded) : undefined,
      };
    case "stock":
      return { t: "s", sku: record.sku, v: String(record.version), a: String(record.available) };
    case "collection":
      return { t: "c", v: String(record.version), b: base64Encode(toBinary(CollectionSchema, record.collection)) };
  }
}

function recordOf(line: Exclude<Line, { t: "meta" }>): ProjectionRecord {
  switch (line.t) {
    case "p":
      return {
        kind: "product",
        id: line.id,
        version: BigInt(line.v),
        skus: line.skus,
        encoded: line.b ? base64Decode(line.b) : undefined,
      };
    case "s":
      return { kind: "stock", sku: line.sku, version: BigInt(line.v), available: BigInt(line.a) };
    case "c":
      return {
        kind: "collection",
        version: BigInt(line.v),
        collection: fromBinary(CollectionSchema, base64Decode(line.b)),
      };
  }
}

/**
 * Writes the catalog to `dir` so the next start replays only what came after. Written to a temporary file and
 * renamed, so a crash never leaves half a snapshot; yields to the event loop between chunks so searches go on.
 * Events applied while it is written may or may not be in it: the positions are taken first, and replaying from
 * them again is harmless, since events apply by version.
 */
export async function writeCatalogSnapshot(
  dir: string,
  source: CatalogSeed,
): Promise<{ records: number; path: string }> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, fileName);
  const temporary = `${path}.${process.pid}.tmp`;
  const out = createWriteStream(temporary, { encoding: "utf8" });
  const write = (text: string) =>
    out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once("drain", () => resolve()));
  let records = 0;
  try {
    const meta: Line = { t: "meta", format, positions: source.positions, savedAt: new Date().toISOString() };
    await write(`${JSON.stringify(meta)}\n`);
    let chunk = "";
    for (const record of source.projection.records()) {
      chunk += `${JSON.stringify(lineOf(record))}\n`;
      if (++records % 2_000 === 0) {
        await write(chunk);
        chunk = "";
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await write(chunk);
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await rename(temporary, path);
  } catch (err) {
    out.destroy();
    await rm(temporary, { force: true });
    throw err;
  }
  return { records, path };
}

/** The snapshot in `dir`, or undefined when there is none (or it is of another format). */
export async function readCatalogSnapshot(dir: string): Promise<CatalogSeed | undefined> {
  const path = join(dir, fileName);
  let input: ReturnType<typeof createReadStream>;
  try {
    input = createReadStream(path, { encoding: "utf8" });
    await new Promise<void>((resolve, reject) => {
      input.once("open", () => resolve());
      input.once("error", reject);
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  let positions: StreamPositions | undefined;
  const records: ProjectionRecord[] = [];
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (!text) continue;
    const line = JSON.parse(text) as Line;
    if (line.t === "meta") {
      if (line.format !== format) return undefined;
      positions = line.positions;
    } else records.push(recordOf(line));
  }
  if (positions === undefined) return undefined;
  return { projection: CatalogProjection.restore(records), positions };
}
