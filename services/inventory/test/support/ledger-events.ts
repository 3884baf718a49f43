import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { DeliverPolicy, type JetStreamClient } from "@nats-io/jetstream";
import { decodeEvent, eventContract, eventTypeHeader, namespacedStream, namespacedSubject } from "@shop/platform";

/** Every stored event of one type on `subject` (without namespace), oldest first, with its stream sequence. */
export async function readEvents<Desc extends DescMessage>(
  js: JetStreamClient,
  namespace: string,
  schema: Desc,
  subject: string,
): Promise<Array<MessageShape<Desc> & { seq: number }>> {
  const consumer = await js.consumers.get(namespacedStream(namespace, eventContract(schema).stream), {
    filter_subjects: namespacedSubject(namespace, subject),
    deliver_policy: DeliverPolicy.All,
  });
  const events: Array<MessageShape<Desc> & { seq: number }> = [];
  if ((await consumer.info(true)).num_pending > 0) {
    const messages = await consumer.consume();
    for await (const msg of messages) {
      if (msg.headers?.get(eventTypeHeader) === schema.typeName) {
        events.push(Object.assign(decodeEvent(schema, msg.data), { seq: msg.seq }));
      }
      if (msg.info.pending === 0) break;
    }
    await messages.close();
  }
  await consumer.delete().catch(() => undefined);
  return events;
}
