import { estimateTokens, tokensForChars } from '../core/tokens.ts';

/** What to do with a document longer than one request can hold. */
export type LongDocMode = 'chunk' | 'truncate';

/** Context assumed when neither the config nor a probe tells (the simulator's and many servers' default). */
export const FALLBACK_CONTEXT_TOKENS = 8192;

/**
 * Tokens are estimated as chars / 4; real tokenizers vary (code and non-English text use more
 * tokens per character), so a tenth of the room is kept free.
 */
const SAFETY = 0.9;

/**
 * The most document characters one request may carry: what is left of the context after the
 * longest answer asked for and the prompt around the document, with a safety margin.
 */
export function documentBudgetChars(contextTokens: number, maxTokens: number, overheadText: string): number {
  const room = Math.floor((contextTokens - maxTokens - estimateTokens(overheadText) - 16) * SAFETY);
  return Math.max(256, room * 4);
}

export interface Fitted {
  /** The document's text as sent: one part, or several for map-then-combine. */
  parts: string[];
  /** Set when the document was cut or split: says how, for people and for the model. */
  notice?: string;
  truncated: boolean;
}

/** Where to cut near `limit`: a paragraph break, else a line break, else a space, in the last fifth. */
function cutPoint(text: string, from: number, limit: number): number {
  const end = from + limit;
  if (end >= text.length) return text.length;
  const floor = from + Math.floor(limit * 0.8);
  for (const sep of ['\n\n', '\n', '. ', ' ']) {
    const at = text.lastIndexOf(sep, end - sep.length);
    if (at >= floor) return at + sep.length;
  }
  return end;
}

/** Splits or truncates `text` to parts of at most `budget` characters. Never cuts silently. */
export function fitDocument(text: string, budget: number, mode: LongDocMode): Fitted {
  if (text.length <= budget) return { parts: [text], truncated: false };
  if (mode === 'truncate') {
    const end = cutPoint(text, 0, budget);
    return {
      parts: [text.slice(0, end)],
      truncated: true,
      notice: `Document truncated: the first ${end} of ${text.length} characters (about ${tokensForChars(end)} of ${tokensForChars(text.length)} tokens) are shown`,
    };
  }
  const parts: string[] = [];
  for (let at = 0; at < text.length;) {
    const end = cutPoint(text, at, budget);
    parts.push(text.slice(at, end));
    at = end;
  }
  return {
    parts,
    truncated: false,
    notice: `Document split into ${parts.length} parts of at most ${budget} characters; each prompt was answered per part, then combined`,
  };
}
