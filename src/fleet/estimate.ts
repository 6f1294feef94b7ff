import {
  messageText,
  type ChatRequest,
  type CompletionRequest,
  type EmbeddingRequest,
} from '../core/openai.ts';
import { tokensForChars } from '../core/tokens.ts';

type AnyRequest = ChatRequest | CompletionRequest | EmbeddingRequest;

function joinedLength(v: unknown): number {
  if (typeof v === 'string') return v.length;
  if (Array.isArray(v))
    return v.reduce((n: number, x: unknown) => n + (typeof x === 'string' ? x.length : 0), 0);
  return 0;
}

/** Prompt size and output budget of a request, for choosing a worker (no tokenizer: chars / 4). */
export function estimateRequest(req: AnyRequest): { promptTokens: number; maxTokens: number | undefined } {
  let chars = 0;
  const messages = (req as Partial<ChatRequest>).messages;
  if (Array.isArray(messages)) {
    for (const m of messages) chars += messageText(m.content).length;
  } else {
    chars = joinedLength(
      (req as Partial<CompletionRequest>).prompt ?? (req as Partial<EmbeddingRequest>).input,
    );
  }
  const max = req['max_tokens'] ?? req['max_completion_tokens'];
  return {
    promptTokens: tokensForChars(chars),
    maxTokens: typeof max === 'number' && max > 0 ? max : undefined,
  };
}
