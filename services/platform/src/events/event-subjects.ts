// Subjects and stream names are part of the events' public wire contract, which the SDK owns for subscribers; the
// platform publishes and consumes by the same rules.
export { eventSubject, eventSubjectFilter, namespacedStream, namespacedSubject } from "@shop/sdk";
