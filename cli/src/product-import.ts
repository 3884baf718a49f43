import { Code, ConnectError } from "@connectrpc/connect";
import type {
  BatchCreateProductResult,
  CreateProductRequest,
} from "@shop/contracts/shop/products/v1/product_service_pb.js";
import type { ShopClient } from "@shop/sdk";
import { countRecords, formatOf, readCatalogFile } from "./catalog-file-reader.js";
import { RowError, rowFromCsv, rowFromJson, toCreateRequest } from "./product-row.js";
import { createProgress, type Progress } from "./progress.js";

export interface ImportOptions {
  file: string;
  products: ShopClient["products"];
  /** csv or jsonl; default from the file name. */
  format?: string;
  /** Currency for rows that name none. */
  currency?: string;
  /** Rows per BatchCreateProducts call. Default 500. */
  batchSize?: number;
  /** Batches in flight at once. Default 4. */
  concurrency?: number;
  /** Where row errors and progress go. Default stderr. */
  stream?: NodeJS.WriteStream;
  /** Print row errors as they happen (off for --json, which lists them at the end). */
  printErrors?: boolean;
}

export interface RowFailure {
  line: number;
  field: string;
  message: string;
}

export interface ImportSummary {
  file: string;
  rows: number;
  created: number;
  /** Rows an earlier run of the same import had created already. */
  alreadyImported: number;
  failed: number;
  seconds: number;
  /** The first failures (at most 10,000), in the order they were found. */
  errors: RowFailure[];
}

interface PendingRow {
  line: number;
  request: CreateProductRequest;
}

const keptErrors = 10_000;
const printedErrors = 200;
const transientCodes = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.ResourceExhausted]);

/** Which batch items a whole-batch InvalidArgument names: "requests[3].product.title: …; requests[9]…". */
function violationsByItem(message: string): Map<number, { field: string; message: string }> {
  const byItem = new Map<number, { field: string; message: string }>();
  for (const part of message.split("; ")) {
    const match = /^requests\[(\d+)\]\.([^:]+): (.*)$/s.exec(part);
    if (match && !byItem.has(Number(match[1]))) {
      byItem.set(Number(match[1]), { field: match[2] as string, message: `${match[2]}: ${match[3]}` });
    }
  }
  return byItem;
}

/**
 * Streams a catalog file into BatchCreateProducts: rows are read, converted and sent in batches with a few in flight,
 * so a 100k-row file never sits in memory. A bad row is reported with its line number and the import goes on. Every
 * row carries a request id derived from its SKU, so running the same import again creates only what is missing.
 */
export async function importProducts(options: ImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const stream = options.stream ?? process.stderr;
  const format = formatOf(options.file, options.format);
  const total = await countRecords(options.file, format);
  const progress: Progress = createProgress("importing", total, stream);
  const batchSize = options.batchSize ?? 500;
  const concurrency = options.concurrency ?? 4;
  const summary: ImportSummary = {
    file: options.file,
    rows: 0,
    created: 0,
    alreadyImported: 0,
    failed: 0,
    seconds: 0,
    errors: [],
  };
  let done = 0;

  const fail = (line: number, field: string, message: string) => {
    summary.failed++;
    done++;
    if (summary.errors.length < keptErrors) summary.errors.push({ line, field, message });
    if (options.printErrors !== false && summary.failed <= printedErrors) {
      stream.write(`${stream.isTTY ? "\r\x1b[K" : ""}${options.file}:${line}: ${message}\n`);
      if (summary.failed === printedErrors) stream.write("… further row errors are counted but not printed\n");
    }
  };

  const settle = (row: PendingRow, result: BatchCreateProductResult) => {
    if (result.product === undefined) return fail(row.line, result.errorField, result.errorMessage);
    done++;
    if (result.replayed) summary.alreadyImported++;
    else summary.created++;
  };

  const call = async <T>(send: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (err) {
        const error = ConnectError.from(err);
        if (!transientCodes.has(error.code) || attempt === 4) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
  };

  const sendBatch = async (rows: PendingRow[]) => {
    let pending = rows;
    while (pending.length > 0) {
      try {
        const { results } = await call(() =>
          options.products.batchCreateProducts({ requests: pending.map((row) => row.request) }),
        );
        pending.forEach((row, i) => {
          settle(row, results[i] as BatchCreateProductResult);
        });
        return;
      } catch (err) {
        const error = ConnectError.from(err);
        if (error.code !== Code.InvalidArgument) throw error;
        // The contract's rules refused part of the batch: report those rows, send the rest again.
        const bad = violationsByItem(error.rawMessage);
        if (bad.size === 0) {
          for (const row of pending) fail(row.line, "", error.rawMessage);
          return;
        }
        for (const [i, violation] of bad) {
          const row = pending[i];
          if (row) fail(row.line, violation.field, violation.message);
        }
        pending = pending.filter((_, i) => !bad.has(i));
      }
    }
  };

  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const dispatch = (rows: PendingRow[]) => {
    const sending: Promise<void> = sendBatch(rows)
      .catch((err) => {
        failure ??= err;
      })
      .finally(() => {
        inFlight.delete(sending);
        progress.update(done, summary.failed > 0 ? `(${summary.failed} failed)` : "");
      });
    inFlight.add(sending);
  };

  const lineOfSku = new Map<string, number>();
  let batch: PendingRow[] = [];
  for await (const record of readCatalogFile(options.file, format)) {
    if (failure !== undefined) break;
    summary.rows++;
    if (record.problem !== undefined) {
      fail(record.line, "", `row ${record.problem}`);
      continue;
    }
    let request: CreateProductRequest;
    try {
      request = toCreateRequest(format === "csv" ? rowFromCsv(record.value) : rowFromJson(record.value), {
        currency: options.currency,
      });
    } catch (err) {
      if (!(err instanceof RowError)) throw err;
      fail(record.line, err.field, err.message);
      continue;
    }
    const repeated = request.product?.variants.map((v) => v.sku).find((sku) => lineOfSku.has(sku));
    if (repeated !== undefined) {
      fail(record.line, "sku", `sku: "${repeated}" is already used on line ${lineOfSku.get(repeated)}`);
      continue;
    }
    for (const variant of request.product?.variants ?? []) lineOfSku.set(variant.sku, record.line);
    batch.push({ line: record.line, request });
    if (batch.length >= batchSize) {
      dispatch(batch);
      batch = [];
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  }
  if (batch.length > 0 && failure === undefined) dispatch(batch);
  await Promise.all(inFlight);
  summary.seconds = (Date.now() - started) / 1000;
  progress.finish();
  if (failure !== undefined) {
    stream.write(
      `stopped after ${done} of ${total} rows (${summary.created} created): run the same command again to go on; ` +
        "rows already imported are skipped\n",
    );
    throw failure;
  }
  return summary;
}
