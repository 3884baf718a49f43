import { clone } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type Collection, CollectionSchema } from "@shop/contracts/shop/products/v1/product_pb.js";
import type { Command } from "commander";
import { createCliContext } from "./cli-context.js";
import { UsageError } from "./cli-errors.js";
import { type Column, messageJson, type OutputOptions, printJson, printRows } from "./output.js";
import { wholeNumber } from "./products.js";

/** "Kitchen & Dining" → "kitchen-dining": the handle a collection gets when none is given. */
export function handleFromTitle(title: string): string {
  return title
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64)
    .replace(/-+$/, "");
}

const columns: Column<Collection>[] = [
  { header: "ID", value: (c) => c.id },
  { header: "HANDLE", value: (c) => c.handle },
  { header: "TITLE", value: (c) => c.title },
  { header: "PRODUCTS", value: (c) => String(c.productCount), align: "right" },
  { header: "ARCHIVED", value: (c) => (c.archived ? "yes" : "") },
  { header: "REV", value: (c) => String(c.revision), align: "right" },
];

function printCollection(options: OutputOptions, collection: Collection): void {
  if (options.json) {
    printJson(messageJson(CollectionSchema, collection));
    return;
  }
  const lines: Array<[string, string]> = [
    ["id", collection.id],
    ["handle", collection.handle],
    ["title", collection.title],
    ["products", String(collection.productCount)],
    ["archived", collection.archived ? "yes" : "no"],
    ["revision", String(collection.revision)],
    ["updated", collection.updateTime ? timestampDate(collection.updateTime).toISOString() : ""],
    ["description", collection.description],
  ];
  for (const [name, value] of lines) if (value !== "") process.stdout.write(`${name.padEnd(12)}${value}\n`);
}

/** `shop collections …`: curated groups of products. */
export function registerCollections(program: Command): void {
  const collections = program.command("collections").description("group products into collections");

  collections
    .command("create")
    .description("create a collection, e.g. --title Kitchen")
    .requiredOption("--title <title>", "title")
    .option("--handle <handle>", "URL name (default: made from the title)")
    .option("--description <text>", "description")
    .option("--request-id <id>", "idempotency key")
    .option("--json", "print JSON")
    .action(
      async (options: OutputOptions & { title: string; handle?: string; description?: string; requestId?: string }) => {
        const handle = options.handle ?? handleFromTitle(options.title);
        if (handle === "")
          throw new UsageError("the title has no letters or digits to make a handle from: pass --handle");
        const { client } = await createCliContext();
        const collection = await client.products.createCollection({
          collection: { title: options.title, handle, description: options.description ?? "" },
          requestId: options.requestId ?? "",
        });
        printCollection(options, collection);
      },
    );

  collections
    .command("get <id>")
    .description("show one collection")
    .option("--json", "print JSON")
    .action(async (id: string, options: OutputOptions) => {
      const { client } = await createCliContext();
      printCollection(options, await client.products.getCollection({ id }));
    });

  collections
    .command("list")
    .description("list collections, oldest first")
    .option("--archived", "include archived collections")
    .option("--json", "print JSON")
    .action(async (options: OutputOptions & { archived?: boolean }) => {
      const { client } = await createCliContext();
      const rows: Collection[] = [];
      let pageToken = "";
      do {
        const page = await client.products.listCollections({
          pageSize: 1000,
          pageToken,
          includeArchived: options.archived ?? false,
        });
        rows.push(...page.collections);
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      printRows(options, rows, columns, (c) => messageJson(CollectionSchema, c));
    });

  collections
    .command("update <id>")
    .description("change title, handle or description (at the revision it reads)")
    .option("--title <title>", "new title")
    .option("--handle <handle>", "new handle")
    .option("--description <text>", "new description")
    .option("--revision <n>", "only update if the collection is still at this revision")
    .option("--json", "print JSON")
    .action(
      async (
        id: string,
        options: OutputOptions & { title?: string; handle?: string; description?: string; revision?: string },
      ) => {
        const { client } = await createCliContext();
        const next = clone(CollectionSchema, await client.products.getCollection({ id }));
        const paths: string[] = [];
        for (const field of ["title", "handle", "description"] as const) {
          const value = options[field];
          if (value === undefined) continue;
          next[field] = value;
          paths.push(field);
        }
        if (paths.length === 0) throw new UsageError("nothing to change: give --title, --handle or --description");
        if (options.revision !== undefined) next.revision = wholeNumber(options.revision, "--revision");
        printCollection(options, await client.products.updateCollection({ collection: next, updateMask: { paths } }));
      },
    );

  collections
    .command("archive <id>")
    .description("archive a collection (kept, but closed to changes and hidden from listings)")
    .option("--json", "print JSON")
    .action(async (id: string, options: OutputOptions) => {
      const { client } = await createCliContext();
      printCollection(options, await client.products.archiveCollection({ id }));
    });

  collections
    .command("add <collection> <products...>")
    .description("add products (by id) to a collection")
    .option("--json", "print JSON")
    .action(async (collectionId: string, productIds: string[], options: OutputOptions) => {
      const { client } = await createCliContext();
      printCollection(options, await client.products.addProductsToCollection({ collectionId, productIds }));
    });

  collections
    .command("remove <collection> <products...>")
    .description("remove products (by id) from a collection")
    .option("--json", "print JSON")
    .action(async (collectionId: string, productIds: string[], options: OutputOptions) => {
      const { client } = await createCliContext();
      printCollection(options, await client.products.removeProductsFromCollection({ collectionId, productIds }));
    });
}
