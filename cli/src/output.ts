import { type DescMessage, type MessageShape, toJson } from "@bufbuild/protobuf";

/** Options every read command takes. */
export interface OutputOptions {
  json?: boolean;
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  align?: "left" | "right";
}

/** A plain aligned table for people; no colours so it pastes cleanly. */
export function formatTable<Row>(rows: Row[], columns: Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => (line[i] ?? "").length)),
  );
  const pad = (text: string, i: number) =>
    columns[i]?.align === "right" ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0);
  const lines = [
    columns.map((column, i) => pad(column.header, i)).join("  "),
    ...cells.map((line) => line.map(pad).join("  ")),
  ];
  return `${lines.map((line) => line.trimEnd()).join("\n")}\n`;
}

/** Proto messages as canonical protobuf JSON (int64 as strings, enums by name): stable for scripts. */
export function messageJson<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): unknown {
  return toJson(schema, message, { alwaysEmitImplicit: true });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints a table for people or JSON for scripts, as `--json` asks. */
export function printRows<Row>(
  options: OutputOptions,
  rows: Row[],
  columns: Column<Row>[],
  toJsonValue: (row: Row) => unknown,
): void {
  if (options.json) printJson(rows.map(toJsonValue));
  else if (rows.length === 0) process.stderr.write("nothing found\n");
  else process.stdout.write(formatTable(rows, columns));
}
