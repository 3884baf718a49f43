import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), "utf8");

const levelPrelude = lua("level-prelude");
const reservationPrelude = `${levelPrelude}\n${lua("reservation-prelude")}`;

/** Each script's full source: the shared helpers it needs, then its body. */
export const scriptSources = {
  reserve: `${reservationPrelude}\n${lua("reserve")}`,
  commit: `${reservationPrelude}\n${lua("commit")}`,
  release: `${reservationPrelude}\n${lua("release")}`,
  sweep: `${reservationPrelude}\n${lua("sweep")}`,
  restoreReservation: `${reservationPrelude}\n${lua("restore-reservation")}`,
  adjust: `${levelPrelude}\n${lua("adjust")}`,
  sellerLevel: `${levelPrelude}\n${lua("seller-level")}`,
  reconcileReserved: `${levelPrelude}\n${lua("reconcile-reserved")}`,
  readLevels: lua("read-levels"),
  restoreLevel: lua("restore-level"),
  outboxClaim: lua("outbox-claim"),
  outboxRelease: lua("outbox-release"),
  outboxRenew: lua("outbox-renew"),
} as const;

export type ScriptName = keyof typeof scriptSources;

/** Runs one script by SHA (ioredis sends EVALSHA and falls back to EVAL once after a Redis restart). */
export type RunScript = (name: ScriptName, keys: string[], args: Array<string | number>) => Promise<unknown>;

const commandName = (name: ScriptName) => `shopInventory_${name}`;

/** Registers every script on a connection once; calls then go by SHA. */
export function defineInventoryScripts(redis: Redis): RunScript {
  for (const [name, lua] of Object.entries(scriptSources)) {
    if (!(commandName(name as ScriptName) in redis)) redis.defineCommand(commandName(name as ScriptName), { lua });
  }
  const commands = redis as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>;
  return (name, keys, args) => {
    const command = commands[commandName(name)] as (...args: Array<string | number>) => Promise<unknown>;
    return command.call(redis, keys.length, ...keys, ...args);
  };
}
