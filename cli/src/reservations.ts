import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  type Reservation,
  ReservationSchema,
  ReservationState,
} from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import type { Command } from "commander";
import { createCliContext } from "./cli-context.js";
import { UsageError } from "./cli-errors.js";
import { type Column, messageJson, type OutputOptions, printJson, printRows } from "./output.js";

const stateByWord: Record<string, ReservationState> = {
  held: ReservationState.HELD,
  committed: ReservationState.COMMITTED,
  released: ReservationState.RELEASED,
  expired: ReservationState.EXPIRED,
};

const stateWord = (state: ReservationState) => (ReservationState[state] ?? "unspecified").toLowerCase();
const time = (t: Reservation["expireTime"]) =>
  t
    ? timestampDate(t)
        .toISOString()
        .replace(/\.\d+Z$/, "Z")
    : "";

const columns: Column<Reservation>[] = [
  { header: "ID", value: (r) => r.id },
  { header: "STATE", value: (r) => stateWord(r.state) },
  { header: "LINES", value: (r) => r.lines.map((line) => `${line.sku}×${line.quantity}`).join(" ") },
  { header: "EXPIRES", value: (r) => (r.state === ReservationState.HELD ? time(r.expireTime) : "") },
  { header: "CREATED", value: (r) => time(r.createTime) },
  { header: "REFERENCE", value: (r) => r.reference },
];

const asJson = (r: Reservation) => messageJson(ReservationSchema, r);

function positive(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${what} "${text}" must be a whole number above 0`);
  return value;
}

/** `shop reservations …`: the holds checkouts keep on stock, for operators. */
export function registerReservations(program: Command): void {
  const reservations = program
    .command("reservations")
    .description("see and release stock reservations (holds made by checkouts)");

  reservations
    .command("list")
    .description("list reservations, oldest first (held ones unless --state says otherwise)")
    .option("--state <state>", "held, committed, released or expired", "held")
    .option("--limit <n>", "at most this many", "50")
    .option("--all", "every one, following all pages")
    .option("--json", "print JSON")
    .action(async (options: OutputOptions & { state: string; limit: string; all?: boolean }) => {
      const state = stateByWord[options.state];
      if (state === undefined)
        throw new UsageError(`--state "${options.state}": use held, committed, released or expired`);
      const limit = options.all ? Number.POSITIVE_INFINITY : positive(options.limit, "--limit");
      const { client } = await createCliContext();
      const rows: Reservation[] = [];
      let pageToken = "";
      do {
        const pageSize = Math.min(1000, limit - rows.length);
        const page = await client.inventory.listReservations({ state, pageSize, pageToken });
        rows.push(...page.reservations);
        pageToken = page.nextPageToken;
      } while (pageToken !== "" && rows.length < limit);
      printRows(options, rows, columns, asJson);
      if (pageToken !== "" && !options.json) process.stderr.write("more reservations: use --limit or --all\n");
    });

  reservations
    .command("get <id>")
    .description("show one reservation")
    .option("--json", "print JSON")
    .action(async (id: string, options: OutputOptions) => {
      const { client } = await createCliContext();
      const reservation = await client.inventory.getReservation({ reservationId: id });
      if (options.json) printJson(asJson(reservation));
      else printRows(options, [reservation], columns, asJson);
    });

  reservations
    .command("release <id>")
    .description("give a held reservation's units back to stock (a committed one cannot be released)")
    .option("--reason <text>", "why, kept with the reservation", "released by an operator")
    .option("--json", "print JSON")
    .action(async (id: string, options: OutputOptions & { reason: string }) => {
      const { client } = await createCliContext();
      const reservation = await client.inventory.release({ reservationId: id, reason: options.reason });
      if (options.json) printJson(asJson(reservation));
      else printRows(options, [reservation], columns, asJson);
    });
}
