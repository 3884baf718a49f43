// Subjects and stream names are part of the events' public wire contract (@shop/event-wire): the platform publishes and
// consumes by the same rules the SDK's subscribers follow.
export { eventSubject, eventSubjectFilter, namespacedStream, namespacedSubject } from "@shop/event-wire";
