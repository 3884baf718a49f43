/**
 * Numbers names in order of first sight, so that per-name data can live in arrays indexed by number instead of in
 * objects keyed by name: the read model holds a million products, and an array slot costs a few bytes where an object
 * costs a hundred.
 */
export class Numbering {
  private readonly numbers = new Map<string, number>();
  /** The names by number. */
  readonly names: string[] = [];

  get size(): number {
    return this.names.length;
  }

  /** The number of `name`, or undefined when it was never numbered. */
  find(name: string): number | undefined {
    return this.numbers.get(name);
  }

  /** The number of `name`, given on first sight; `onNew` runs once, with the new number, to make room for it. */
  numberOf(name: string, onNew?: (number: number) => void): number {
    const known = this.numbers.get(name);
    if (known !== undefined) return known;
    const number = this.names.length;
    this.numbers.set(name, number);
    this.names.push(name);
    onNew?.(number);
    return number;
  }

  nameOf(number: number): string {
    return this.names[number] as string;
  }
}
