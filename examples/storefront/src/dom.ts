/** What an element may contain: nodes, text, and nothing (skipped), so conditional children read inline. */
export type Child = Node | string | number | bigint | null | undefined | false;

type Attributes = Record<string, string | number | boolean | EventListener | undefined>;

/**
 * Builds an element: `on<event>` attributes become listeners, booleans toggle the attribute, `value` sets the
 * property (so inputs show it), everything else is an attribute. Text is always text, never HTML.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === "value") (element as HTMLInputElement).value = String(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

/** Appends children, skipping the empty ones. */
export function append(parent: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
}

/** A message box: `role="alert"` for errors so assistive technology announces them. */
export function notice(kind: "error" | "info" | "success", ...children: Child[]): HTMLElement {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" }, ...children);
}
