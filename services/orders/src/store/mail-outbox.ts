import { randomUUID } from "node:crypto";
import { access, link, mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { JetStreamClient } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { Logger } from "@shop/platform";
import nodemailer, { type SendMailOptions, type Transporter } from "nodemailer";

/** One email to send, named by a stable id: the same id is never sent twice. */
export interface OutgoingMail {
  /** Stable id of what caused the mail (the event id and the kind); it names the file and the Message-ID. */
  id: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  /** The Date header: when the event happened, so a re-composed mail is byte for byte the same. */
  date: Date;
}

/**
 * "sent": handed over now. "already-sent": a mail with this id was sent (or claimed) before. "abandoned": the SMTP
 * server may or may not have taken it; it is not retried, so that it is never sent twice.
 */
export type SendOutcome = "sent" | "already-sent" | "abandoned";

/** Where order emails go: `.eml` files in a folder, or an SMTP server. Each mail id is sent at most once. */
export interface MailOutbox {
  /** Where mail lands, for logs and `npm start`: a folder path or the SMTP host. */
  where: string;
  sendOnce(mail: OutgoingMail): Promise<SendOutcome>;
  close(): void;
}

/** "ord_…:v3/order-confirmation" → "ord_…-v3.order-confirmation": safe as a file name and as a KV key. */
export function mailFileStem(id: string): string {
  return id
    .replaceAll(":", "-")
    .replaceAll("/", ".")
    .replaceAll(/[^A-Za-z0-9._-]/g, "_");
}

function mailOptions(mail: OutgoingMail): SendMailOptions {
  const domain = /@([^>\s]+)>?\s*$/.exec(mail.from)?.[1] ?? "shop.localhost";
  return {
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    date: mail.date,
    // The same mail always carries the same Message-ID, so a mail client or MTA can also drop a copy.
    messageId: `<${mailFileStem(mail.id)}@${domain}>`,
    headers: { "X-Shop-Mail-Id": mail.id },
  };
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * The default outbox: each mail is a raw RFC 822 message (`<id>.eml`, made by nodemailer's stream transport) in `dir`.
 * The file is written aside and then hard-linked to its name, which fails if the name exists: the file appears
 * whole and at most once, even when two consumers race or one crashes mid-write.
 */
export async function createFileMailOutbox(dir: string): Promise<MailOutbox> {
  const partialDir = join(dir, ".partial");
  await mkdir(partialDir, { recursive: true });
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  return {
    where: resolve(dir),
    async sendOnce(mail) {
      const file = join(dir, `${mailFileStem(mail.id)}.eml`);
      if (await exists(file)) return "already-sent";
      const info = await transport.sendMail(mailOptions(mail));
      const partial = join(partialDir, `${mailFileStem(mail.id)}.${process.pid}.${randomUUID()}`);
      await writeFile(partial, info.message as Buffer);
      try {
        await link(partial, file);
        return "sent";
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") return "already-sent";
        throw err;
      } finally {
        await rm(partial, { force: true });
      }
    },
    close: () => transport.close(),
  };
}

/** nodemailer error codes raised before the server could have accepted the message: safe to try again. */
const notDelivered = new Set(["ECONNECTION", "EDNS", "ETLS", "EAUTH", "ESOCKET", "EENVELOPE"]);

/**
 * SMTP (or any nodemailer transport), with each mail id claimed in a JetStream KV bucket before it is sent: at most
 * once. A crash between the claim and the send loses that mail rather than sending it twice; a failure that surely
 * happened before the server took the message (cannot connect, refused login or recipients) releases the claim so a
 * redelivery tries again; an ambiguous one (the connection dropped after the message was sent) keeps it.
 */
export function createClaimedMailOutbox(options: {
  kv: KV;
  transport: Transporter;
  where: string;
  logger: Logger;
}): MailOutbox {
  const { kv, transport, logger } = options;
  const record = (state: string, extra: Record<string, string> = {}) =>
    JSON.stringify({ state, at: new Date().toISOString(), ...extra });
  return {
    where: options.where,
    async sendOnce(mail) {
      const key = mailFileStem(mail.id);
      let revision: number;
      try {
        revision = await kv.create(key, record("sending"));
      } catch (err) {
        const entry = await kv.get(key);
        if (entry?.operation === "PUT") return "already-sent";
        throw err;
      }
      try {
        await transport.sendMail(mailOptions(mail));
      } catch (err) {
        const code = (err as { code?: string }).code ?? "";
        if (notDelivered.has(code)) {
          await kv.delete(key, { previousSeq: revision });
          throw err;
        }
        await kv.put(key, record("abandoned", { error: (err as Error).message }));
        logger.error(
          { err, mail: mail.id },
          "the SMTP server may not have taken this mail; not retried (at most once)",
        );
        return "abandoned";
      }
      await kv.put(key, record("sent"));
      return "sent";
    },
    close: () => transport.close(),
  };
}

/** The KV bucket of claimed mail ids, one per namespace. */
export function sentMailBucket(namespace: string): string {
  return namespace === "" ? "orders_mail_sent" : `${namespace}_orders_mail_sent`;
}

/** The SMTP outbox at `smtpUrl` (smtp:// or smtps://), its claims in the namespace's KV bucket. */
export async function createSmtpMailOutbox(options: {
  smtpUrl: string;
  js: JetStreamClient;
  namespace: string;
  logger: Logger;
  /** Copies of the claims bucket in a NATS cluster when it is created (SHOP_NATS_STREAM_REPLICAS). Default 1. */
  replicas?: number;
}): Promise<MailOutbox> {
  const kv = await new Kvm(options.js).create(sentMailBucket(options.namespace), {
    history: 1,
    replicas: options.replicas ?? 1,
  });
  const host = new URL(options.smtpUrl).host;
  return createClaimedMailOutbox({
    kv,
    transport: nodemailer.createTransport(options.smtpUrl),
    where: `smtp://${host}`,
    logger: options.logger,
  });
}
