import { describe, expect, it } from 'vitest';
import { estimateRequest } from '../../src/fleet/estimate.ts';

describe('estimateRequest', () => {
  const messages = [{ role: 'user' as const, content: 'x'.repeat(400) }];

  it('reads the output budget from max_tokens, else max_completion_tokens (the OpenAI SDKs’ newer name)', () => {
    expect(estimateRequest({ messages, max_tokens: 32 }).maxTokens).toBe(32);
    expect(estimateRequest({ messages, max_completion_tokens: 500 }).maxTokens).toBe(500);
    expect(estimateRequest({ messages, max_tokens: 32, max_completion_tokens: 500 }).maxTokens).toBe(32);
    expect(estimateRequest({ messages }).maxTokens).toBeUndefined();
    expect(estimateRequest({ messages, max_completion_tokens: 0 }).maxTokens).toBeUndefined();
  });

  it('counts the prompt at about four characters a token', () => {
    expect(estimateRequest({ messages }).promptTokens).toBe(100);
    expect(estimateRequest({ prompt: 'y'.repeat(80) }).promptTokens).toBe(20);
  });
});
