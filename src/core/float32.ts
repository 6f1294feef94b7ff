/*
 * Embeddings as base64: the bytes of a little-endian float32 array, as OpenAI's API sends them
 * for `encoding_format: "base64"` (and as its SDKs decode them).
 */

/** Numbers as base64 float32 bytes. */
export function floatsToBase64(xs: readonly number[]): string {
  const f = Float32Array.from(xs);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
}

/** Base64 float32 bytes as numbers; undefined when the text is not whole float32 values. */
export function base64ToFloats(s: string): number[] | undefined {
  const buf = Buffer.from(s, 'base64');
  if (buf.length % 4 !== 0 || (buf.length === 0 && s !== '')) return undefined;
  const out = new Array<number>(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}
