/**
 * Types for the codec package that ships none (plain CommonJS). Only what Floe calls is declared.
 */
declare module "snappyjs" {
  /** Raw snappy; throws when the stream is malformed or its declared length exceeds `maxLength`. */
  export function uncompress<T extends Uint8Array>(compressed: T, maxLength?: number): T;
  /** Raw snappy (no framing). */
  export function compress<T extends Uint8Array>(uncompressed: T): T;
}
