import { ReservationState } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import { AlreadyExistsError, ExhaustedError, NotFoundError, PreconditionError, UnavailableError } from "@shop/platform";

/** "held", "committed"… for messages people read. */
export function stateName(state: ReservationState): string {
  return (ReservationState[state] ?? "UNSPECIFIED").toLowerCase();
}

/** The reasons the inventory says no, each with a message that tells the caller what to do next. */
export const refusals = {
  shortStock: (sku: string, available: number, requested: number) =>
    new ExhaustedError(
      `not enough stock of ${sku}: ${available} available, ${requested} requested; nothing was reserved`,
    ),
  reservationIdReused: (id: string) =>
    new AlreadyExistsError(`reservation ${id} already exists with other lines; use a new reservation id`),
  unknownReservation: (id: string) => new NotFoundError(`no reservation ${id} (finished ones are kept for a while)`),
  notCommittable: (id: string, state: ReservationState) =>
    new PreconditionError(
      `reservation ${id} is ${stateName(state)}; only a held reservation can be committed — reserve again`,
    ),
  notReleasable: (id: string, state: ReservationState) =>
    new PreconditionError(
      `reservation ${id} is ${stateName(state)}: sold units cannot be released; adjust the stock instead`,
    ),
  belowReserved: (sku: string, onHand: number, reserved: number) =>
    new PreconditionError(
      `${sku} would have ${onHand} on hand, below the ${reserved} held by open reservations; release them first or choose a higher level`,
    ),
  ledgerUnconfirmed: (timeoutMs: number) =>
    new UnavailableError(
      `the change is made but the JetStream ledger did not confirm it within ${timeoutMs} ms; retry with the same reservation or request id, which answers once it is recorded`,
    ),
  ledgerNotAwaited: () =>
    new UnavailableError(
      "the inventory is shutting down before the JetStream ledger confirmed the change; retry with the same reservation or request id",
    ),
  ledgerLost: () =>
    new UnavailableError(
      "Redis lost the change before the JetStream ledger recorded it; retry once the inventory is restored",
    ),
  stateLost: () =>
    new UnavailableError(
      "the inventory is restoring its state from the JetStream ledger after Redis lost it; retry in a moment",
    ),
};
