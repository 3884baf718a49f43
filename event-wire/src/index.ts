export type { EventContract } from "./event-contract.js";
export {
  eventContract,
  eventSubject,
  eventSubjectFilter,
  eventTypeHeader,
  namespacedStream,
  namespacedSubject,
} from "./event-contract.js";
