/**
 * Collects the values of a statement as positional parameters ($1, $2, ...), so user-supplied names and values
 * never become SQL text: the statement text depends only on the shape of a definition, not on its values.
 */
export type BoundValue = string | number | boolean | bigint;

export class BoundParams {
  private readonly list: BoundValue[] = [];

  /** Adds a value and returns its placeholder. */
  bind(value: BoundValue): string {
    this.list.push(value);
    return `$${this.list.length}`;
  }

  get values(): readonly BoundValue[] {
    return this.list;
  }
}
