/**
 * Token estimate used where no tokenizer is configured: ceil(chars / 4), the usual rule of
 * thumb for English text with BPE tokenizers. Documented in README ("Tokens").
 */
export function estimateTokens(text: string): number {
  return tokensForChars(text.length);
}

/** The same estimate from a character count. */
export function tokensForChars(chars: number): number {
  return Math.ceil(chars / 4);
}
