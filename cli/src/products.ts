import { clone, create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Product,
  ProductSchema,
  ProductStatus,
  VariantSchema,
} from "@shop/contracts/shop/products/v1/product_pb.js";
import { formatMoney, parseMoney } from "@shop/sdk";
import type { Command } from "commander";
import { createCliContext } from "./cli-context.js";
import { UsageError } from "./cli-errors.js";
import { type Column, messageJson, type OutputOptions, printJson, printRows } from "./output.js";
import { importProducts } from "./product-import.js";
import { RowError, toCreateRequest } from "./product-row.js";

/** Collects a repeatable option: `--tag a --tag b`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `key=value` pairs of repeatable options such as `--attr colour=red`. */
export function pairs(values: string[] = [], option: string): Record<string, string> {
  return Object.fromEntries(
    values.map((entry) => {
      const at = entry.indexOf("=");
      if (at <= 0) throw new UsageError(`${option} "${entry}" must look like name=value`);
      return [entry.slice(0, at), entry.slice(at + 1)];
    }),
  );
}

export function wholeNumber(text: string, what: string): bigint {
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} "${text}" must be a whole number`);
  return BigInt(text);
}

export const statusWord = (status: ProductStatus) => (ProductStatus[status] ?? "unspecified").toLowerCase();

const statusByWord: Record<string, ProductStatus> = {
  draft: ProductStatus.DRAFT,
  active: ProductStatus.ACTIVE,
  archived: ProductStatus.ARCHIVED,
};

function parseStatus(word: string, allowed: string[]): ProductStatus {
  if (!allowed.includes(word)) throw new UsageError(`status "${word}" must be one of ${allowed.join(", ")}`);
  return statusByWord[word] as ProductStatus;
}

const when = (product: Product) => (product.updateTime ? timestampDate(product.updateTime).toISOString() : "");
const clip = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

const productColumns: Column<Product>[] = [
  { header: "ID", value: (p) => p.id },
  { header: "TITLE", value: (p) => clip(p.title, 40) },
  { header: "PRICE", value: (p) => formatMoney(p.price), align: "right" },
  { header: "SKU", value: (p) => clip(p.variants.map((v) => v.sku).join(","), 30) },
  { header: "STATUS", value: (p) => statusWord(p.status) },
  { header: "REV", value: (p) => String(p.revision), align: "right" },
];

/** One product for people: a field per line. */
function printProduct(options: OutputOptions, product: Product): void {
  if (options.json) {
    printJson(messageJson(ProductSchema, product));
    return;
  }
  const lines: Array<[string, string]> = [
    ["id", product.id],
    ["title", product.title],
    ["status", statusWord(product.status)],
    ["price", formatMoney(product.price)],
    [
      "variants",
      product.variants
        .map((v) => `${v.sku}${v.title ? ` (${v.title})` : ""}${v.price ? ` ${formatMoney(v.price)}` : ""}`)
        .join(", "),
    ],
    ["tags", product.tags.join(", ")],
    [
      "attributes",
      Object.entries(product.attributes)
        .map(([k, v]) => `${k}=${v}`)
        .join(", "),
    ],
    ["collections", product.collectionIds.join(", ")],
    ["images", product.imageUrls.join(" ")],
    ["revision", String(product.revision)],
    ["updated", when(product)],
    ["description", product.description],
  ];
  for (const [name, value] of lines) if (value !== "") process.stdout.write(`${name.padEnd(12)}${value}\n`);
}

interface ProductFlags {
  title?: string;
  description?: string;
  price?: string;
  currency?: string;
  sku?: string[];
  stock?: string;
  tag?: string[];
  attr?: string[];
  image?: string[];
  collection?: string[];
  draft?: boolean;
  requestId?: string;
}

/** `shop products …`: create, get, list, update, archive, import. */
export function registerProducts(program: Command): void {
  const products = program.command("products").description("create and manage the catalog's products");

  products
    .command("create")
    .description("create a product, e.g. --title Mug --price 12.50 --currency EUR --sku MUG-1 --stock 40")
    .requiredOption("--title <title>", "product title")
    .requiredOption("--price <amount>", "price as a decimal, e.g. 12.50 (converted exactly to minor units)")
    .requiredOption("--currency <code>", "ISO 4217 currency, e.g. EUR")
    .requiredOption("--sku <sku>", "SKU of a variant; repeat for several variants", collect)
    .option("--stock <quantity>", "initial stock of the first SKU")
    .option("--description <text>", "description")
    .option("--tag <tag>", "tag; repeatable", collect)
    .option("--attr <name=value>", "attribute; repeatable", collect)
    .option("--image <url>", "image URL; repeatable", collect)
    .option("--collection <id>", "collection id; repeatable", collect)
    .option("--draft", "create as a draft (not listed in the catalog yet)")
    .option("--request-id <id>", "idempotency key: repeating the command with it returns the same product")
    .option("--json", "print JSON")
    .action(async (flags: ProductFlags & OutputOptions) => {
      const [first, ...others] = flags.sku ?? [];
      let request: ReturnType<typeof toCreateRequest>;
      try {
        request = toCreateRequest({
          title: flags.title,
          description: flags.description,
          price: flags.price,
          currency: flags.currency,
          status: flags.draft ? "draft" : "",
          tags: flags.tag,
          attributes: pairs(flags.attr, "--attr"),
          imageUrls: flags.image,
          collectionIds: flags.collection,
          variants: [{ sku: first, stock: flags.stock }, ...others.map((sku) => ({ sku }))],
        });
      } catch (err) {
        if (err instanceof RowError)
          throw new UsageError(
            `--${err.field.replace(/^variants\[\d+\]\./, "")}: ${err.message.split(": ").slice(1).join(": ")}`,
          );
        throw err;
      }
      request.requestId = flags.requestId ?? "";
      const { client } = await createCliContext();
      printProduct(flags, await client.products.createProduct(request));
    });

  products
    .command("get <id>")
    .description("show one product")
    .option("--json", "print JSON")
    .action(async (id: string, options: OutputOptions) => {
      const { client } = await createCliContext();
      printProduct(options, await client.products.getProduct({ id }));
    });

  products
    .command("list")
    .description("list products, newest first (drafts and active ones unless --status says otherwise)")
    .option("--status <status>", "draft, active or archived")
    .option("--collection <id>", "only products in this collection")
    .option("--limit <n>", "products per page (max 1000)", "50")
    .option("--page-token <token>", "continue a previous listing")
    .option("--all", "follow every page")
    .option("--json", "print JSON")
    .action(
      async (
        options: OutputOptions & {
          status?: string;
          collection?: string;
          limit: string;
          pageToken?: string;
          all?: boolean;
        },
      ) => {
        const pageSize = Number(wholeNumber(options.limit, "--limit"));
        if (pageSize < 1 || pageSize > 1000) throw new UsageError("--limit must be between 1 and 1000");
        const status = options.status
          ? parseStatus(options.status, ["draft", "active", "archived"])
          : ProductStatus.UNSPECIFIED;
        const { client } = await createCliContext();
        const rows: Product[] = [];
        let pageToken = options.pageToken ?? "";
        let total = 0n;
        do {
          const page = await client.products.listProducts({
            pageSize,
            pageToken,
            status,
            collectionId: options.collection ?? "",
          });
          rows.push(...page.products);
          total = page.totalSize;
          pageToken = page.nextPageToken;
        } while (options.all && pageToken !== "");
        printRows(options, rows, productColumns, (p) => messageJson(ProductSchema, p));
        if (!options.json && pageToken !== "") {
          process.stderr.write(`showing ${rows.length} of ${total}; next page: --page-token ${pageToken} (or --all)\n`);
        }
      },
    );

  products
    .command("update <id>")
    .description("change a product: reads it, applies the given flags, and writes it back at the revision it read")
    .option("--title <title>", "new title")
    .option("--description <text>", "new description")
    .option("--price <amount>", "new price as a decimal (with --currency to change the currency)")
    .option("--currency <code>", "currency of --price")
    .option("--tag <tag>", "replace the tags; repeatable", collect)
    .option("--attr <name=value>", "replace the attributes; repeatable", collect)
    .option("--image <url>", "replace the image URLs; repeatable", collect)
    .option("--sku <sku>", "replace the variants by these SKUs; repeatable", collect)
    .option("--status <status>", "draft or active (archive with `shop products archive`)")
    .option("--revision <n>", "only update if the product is still at this revision")
    .option("--json", "print JSON")
    .action(async (id: string, flags: ProductFlags & OutputOptions & { status?: string; revision?: string }) => {
      const { client } = await createCliContext();
      const current = await client.products.getProduct({ id });
      const next = clone(ProductSchema, current);
      const paths: string[] = [];
      /** Applies one flag when it was given and puts its field in the update mask. */
      const change = <T>(path: string, value: T | undefined, apply: (value: T) => void) => {
        if (value === undefined) return;
        apply(value);
        paths.push(path);
      };
      change("title", flags.title, (title) => {
        next.title = title;
      });
      change("description", flags.description, (description) => {
        next.description = description;
      });
      change("price", flags.price ?? flags.currency, () => {
        const currency = flags.currency ?? current.price?.currencyCode ?? "";
        const amount = flags.price ?? formatMoney(current.price).split(" ")[0] ?? "";
        try {
          next.price = parseMoney(amount, currency);
        } catch (err) {
          throw new UsageError(`--price: ${(err as Error).message}`);
        }
      });
      change("tags", flags.tag, (tags) => {
        next.tags = tags;
      });
      change("attributes", flags.attr, (attrs) => {
        next.attributes = pairs(attrs, "--attr");
      });
      change("image_urls", flags.image, (urls) => {
        next.imageUrls = urls;
      });
      change("variants", flags.sku, (skus) => {
        next.variants = skus.map(
          (sku) => current.variants.find((v) => v.sku === sku) ?? create(VariantSchema, { sku }),
        );
      });
      change("status", flags.status, (status) => {
        next.status = parseStatus(status, ["draft", "active"]);
      });
      if (paths.length === 0)
        throw new UsageError("nothing to change: give at least one of --title, --price, --tag, …");
      if (flags.revision !== undefined) next.revision = wholeNumber(flags.revision, "--revision");
      printProduct(flags, await client.products.updateProduct({ product: next, updateMask: { paths } }));
    });

  products
    .command("archive <id>")
    .description("archive a product: it leaves the catalog but is kept for orders and history")
    .option("--revision <n>", "only archive if the product is still at this revision")
    .option("--json", "print JSON")
    .action(async (id: string, options: OutputOptions & { revision?: string }) => {
      const { client } = await createCliContext();
      const revision = options.revision === undefined ? 0n : wholeNumber(options.revision, "--revision");
      printProduct(options, await client.products.archiveProduct({ id, revision }));
    });

  products
    .command("import <file>")
    .description("create products from a CSV (with a header row) or JSONL file; safe to run again to resume")
    .option("--format <format>", "csv or jsonl (default: from the file name)")
    .option("--currency <code>", "currency for rows without one")
    .option("--batch-size <n>", "rows per request (max 1000)", "500")
    .option("--json", "print the summary as JSON")
    .action(
      async (file: string, options: OutputOptions & { format?: string; currency?: string; batchSize: string }) => {
        const batchSize = Number(wholeNumber(options.batchSize, "--batch-size"));
        if (batchSize < 1 || batchSize > 1000) throw new UsageError("--batch-size must be between 1 and 1000");
        const { client } = await createCliContext();
        let summary: Awaited<ReturnType<typeof importProducts>>;
        try {
          summary = await importProducts({
            file,
            products: client.products,
            format: options.format,
            currency: options.currency,
            batchSize,
            printErrors: !options.json,
          });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new UsageError(`no such file: ${file}`);
          if (err instanceof Error && /cannot tell the format/.test(err.message)) throw new UsageError(err.message);
          throw err;
        }
        const rate = summary.seconds > 0 ? Math.round(summary.rows / summary.seconds) : summary.rows;
        if (options.json) printJson(summary);
        else {
          process.stdout.write(
            `${summary.rows} rows: ${summary.created} created, ${summary.alreadyImported} already imported, ` +
              `${summary.failed} failed (${summary.seconds.toFixed(1)} s, ${rate} rows/s)\n`,
          );
        }
        if (summary.failed > 0) {
          throw new ConnectError(
            `${summary.failed} of ${summary.rows} rows were not imported (lines listed above); fix them and run the same ` +
              "command again: rows already imported are skipped",
            Code.InvalidArgument,
          );
        }
      },
    );
}
