/**
 * Copies of strings that share no memory with the text they were cut from. V8 keeps a substring
 * of 13 characters or more as a view (a "sliced string") into its parent, and the SIP parser
 * cuts every header value out of the whole message text: a Service-Route stored for the hours a
 * registration lives would keep both messages of the REGISTER exchange alive (~1.5 KiB per
 * registered connection). Long-lived stores keep their own copies instead.
 */

/** A flat copy of `value` (short strings are already copies in V8). */
export function ownCopy(value: string): string;
export function ownCopy(value: string | undefined): string | undefined;
export function ownCopy(value: string | undefined): string | undefined {
  // JSON.stringify builds a new flat string; parsing it back drops the quotes.
  return value === undefined || value.length < 13 ? value : (JSON.parse(JSON.stringify(value)) as string);
}

/** ownCopy of every element. */
export function ownCopies(values: readonly string[]): string[] {
  return values.map((value) => ownCopy(value));
}
