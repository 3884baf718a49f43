import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

/** One record of a catalog file: the line it starts on (1-based, as editors count) and its fields by column name. */
export interface CatalogRecord {
  line: number;
  /** CSV: column → text; JSONL: the parsed object. */
  value: Record<string, unknown>;
  /** Set instead of `value` when the record itself is unreadable (bad JSON, wrong number of CSV fields). */
  problem?: string;
}

export type CatalogFormat = "csv" | "jsonl";

export function formatOf(path: string, explicit?: string): CatalogFormat {
  const format = (explicit ?? path.split(".").pop() ?? "").toLowerCase();
  if (format === "csv") return "csv";
  if (format === "jsonl" || format === "ndjson") return "jsonl";
  throw new Error(`cannot tell the format of ${path}: name it .csv or .jsonl, or pass --format csv|jsonl`);
}

/**
 * RFC 4180 CSV, streamed chunk by chunk: quoted fields may hold commas, doubled quotes and line breaks. Yields each
 * row's fields with the line it started on; memory stays at one row whatever the file size.
 */
async function* csvRows(path: string): AsyncGenerator<{ line: number; fields: string[] }> {
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let afterQuote = false;
  let line = 1;
  let rowLine = 1;
  let rowHasContent = false;
  for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 256 * 1024 })) {
    const text = chunk as string;
    for (let i = 0; i < text.length; i++) {
      const c = text[i] as string;
      if (quoted) {
        if (c === '"') {
          quoted = false;
          afterQuote = true;
        } else {
          if (c === "\n") line++;
          field += c;
        }
        continue;
      }
      if (c === '"') {
        // A doubled quote inside a quoted field reads as one quote.
        if (afterQuote) field += '"';
        quoted = true;
        afterQuote = false;
        rowHasContent = true;
      } else if (c === ",") {
        fields.push(field);
        field = "";
        afterQuote = false;
        rowHasContent = true;
      } else if (c === "\n") {
        if (rowHasContent || field !== "") {
          fields.push(field.endsWith("\r") ? field.slice(0, -1) : field);
          yield { line: rowLine, fields };
        }
        fields = [];
        field = "";
        afterQuote = false;
        rowHasContent = false;
        line++;
        rowLine = line;
      } else {
        field += c;
        afterQuote = false;
        if (c !== "\r") rowHasContent = true;
      }
    }
  }
  if (rowHasContent || field !== "") {
    fields.push(field.endsWith("\r") ? field.slice(0, -1) : field);
    yield { line: rowLine, fields };
  }
}

async function* csvRecords(path: string): AsyncGenerator<CatalogRecord> {
  let header: string[] | undefined;
  for await (const { line, fields } of csvRows(path)) {
    if (header === undefined) {
      header = fields.map((name) => name.trim().replace(/^\uFEFF/, ""));
      continue;
    }
    if (fields.length !== header.length) {
      yield { line, value: {}, problem: `has ${fields.length} fields but the header has ${header.length}` };
      continue;
    }
    const value: Record<string, unknown> = {};
    header.forEach((name, i) => {
      value[name] = fields[i];
    });
    yield { line, value };
  }
}

async function* jsonlRecords(path: string): AsyncGenerator<CatalogRecord> {
  let line = 0;
  const lines = createInterface({
    input: createReadStream(path, { encoding: "utf8" }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const text of lines) {
    line++;
    if (text.trim() === "") continue;
    try {
      const value = JSON.parse(text) as unknown;
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        yield { line, value: {}, problem: "is not a JSON object" };
      } else yield { line, value: value as Record<string, unknown> };
    } catch (err) {
      yield { line, value: {}, problem: `is not valid JSON (${(err as Error).message})` };
    }
  }
}

/** Streams the records of a CSV (with a header row) or JSONL catalog file. */
export function readCatalogFile(path: string, format: CatalogFormat): AsyncGenerator<CatalogRecord> {
  return format === "csv" ? csvRecords(path) : jsonlRecords(path);
}

/** Records in the file, counted by a quick pass over its bytes (line breaks), so progress can show an ETA. */
export async function countRecords(path: string, format: CatalogFormat): Promise<number> {
  let lines = 0;
  let lastByte = 10;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    const bytes = chunk as Buffer;
    let at = bytes.indexOf(10);
    while (at !== -1) {
      lines++;
      at = bytes.indexOf(10, at + 1);
    }
    if (bytes.length > 0) lastByte = bytes[bytes.length - 1] as number;
  }
  if (lastByte !== 10) lines++;
  return Math.max(0, format === "csv" ? lines - 1 : lines);
}
