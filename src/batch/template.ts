import { FleetError } from '../core/errors.ts';
import type { ChatMessage } from '../core/openai.ts';

/** Placeholders a prompt template may use. */
export const PLACEHOLDERS = ['filename', 'content', 'path', 'title'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type TemplateVars = Record<Placeholder, string>;

// `{{` and `}}` are literal braces (as in Python's str.format, which the older tool used); any
// other brace that does not wrap a bare name (JSON examples in a prompt) is left as it is.
const TOKEN = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Throws FLEET_INPUT_INVALID naming the template and the unknown placeholder. */
export function checkTemplate(template: string, where: string): void {
  for (const m of template.matchAll(TOKEN)) {
    const name = m[1];
    if (name !== undefined && !(PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new FleetError(
        'FLEET_INPUT_INVALID',
        `${where}: unknown placeholder {${name}} in ${JSON.stringify(template.length > 80 ? template.slice(0, 77) + '...' : template)}; ` +
          `known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')} (write {{ and }} for literal braces)`,
      );
    }
  }
}

export function renderTemplate(template: string, vars: TemplateVars): string {
  return template.replace(TOKEN, (tok, name: string | undefined) => {
    if (name === undefined) return tok === '{{' ? '{' : '}';
    return vars[name as Placeholder];
  });
}

export function countContent(template: string): number {
  let n = 0;
  for (const m of template.matchAll(TOKEN)) if (m[1] === 'content') n++;
  return n;
}

/** A prompt with every default applied, as it is sent. */
export interface ResolvedPrompt {
  index: number;
  name: string;
  template: string;
  /** The prompt's own system text (placed after the document; see buildMessages). */
  system?: string;
  maxTokens: number;
  temperature?: number;
}

export interface MessageInput {
  prompt: ResolvedPrompt;
  /** The system message shared by every prompt of the job. */
  sharedSystem: string | undefined;
  vars: Omit<TemplateVars, 'content'>;
  /** The document text to send (the whole document, a chunk of it, or a truncated copy). */
  content: string;
  /** Set when `content` is one part of a chunked document. */
  part?: { index: number; count: number };
  /** Said to the model right after the document (e.g. that it was truncated). */
  notice?: string;
}

/**
 * Turns a template into chat messages with the document first and the instruction last, so every
 * prompt over one document shares the longest possible prefix (system message + document) and a
 * worker's prefix cache prefills the document once:
 *
 *   system: <shared system prompt>            (when there is one)
 *   user:   Document: <filename>\n\n<content>\n\n---\n\n<prompt system>\n\n<instruction>
 *
 * where the instruction is the template with its one `{content}` removed. A template with no
 * `{content}` is sent as it is (the document is not sent); one with `{content}` twice or more is
 * rendered in place (no shared prefix beyond the system message).
 */
export function buildMessages(input: MessageInput): ChatMessage[] {
  const { prompt, vars, content } = input;
  const messages: ChatMessage[] = [];
  if (input.sharedSystem) messages.push({ role: 'system', content: input.sharedSystem });
  const n = countContent(prompt.template);
  const own = prompt.system ? `${prompt.system}\n\n` : '';
  if (n !== 1) {
    messages.push({ role: 'user', content: own + renderTemplate(prompt.template, { ...vars, content }) });
    return messages;
  }
  const instruction = renderTemplate(prompt.template, { ...vars, content: '' }).trim();
  const part = input.part;
  const head = part
    ? `Document: ${vars.filename} (part ${part.index + 1} of ${part.count})`
    : `Document: ${vars.filename}`;
  const notice = input.notice ? `\n\n[${input.notice}]` : '';
  const scope = part
    ? `This is part ${part.index + 1} of ${part.count} of the document. Answer from this part only; say briefly if it does not tell.\n\n`
    : '';
  messages.push({
    role: 'user',
    content: `${head}\n\n${content}${notice}\n\n---\n\n${own}${scope}${instruction}`,
  });
  return messages;
}

/**
 * The request that merges the answers from each part of a chunked document into one answer
 * (the "combine" step of map-then-combine).
 */
export function buildCombineMessages(
  input: Omit<MessageInput, 'content' | 'part' | 'notice'>,
  partials: string[],
): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (input.sharedSystem) messages.push({ role: 'system', content: input.sharedSystem });
  const instruction = renderTemplate(input.prompt.template, {
    ...input.vars,
    content: '(the document)',
  }).trim();
  const body = partials
    .map((p, i) => `## Answer from part ${i + 1} of ${partials.length}\n\n${p.trim()}`)
    .join('\n\n');
  const own = input.prompt.system ? `${input.prompt.system}\n\n` : '';
  messages.push({
    role: 'user',
    content:
      `The document ${input.vars.filename} was too long to read at once, so the instruction below was answered ` +
      `for each of its ${partials.length} parts in turn:\n\n${body}\n\n---\n\n${own}` +
      `Combine these into one answer for the whole document, without mentioning the parts.\n\nInstruction: ${instruction}`,
  });
  return messages;
}

/** The prompt as the JSON output shows it: rendered, with the document's text elided. */
export function shownPrompt(template: string, vars: Omit<TemplateVars, 'content'>, chars: number): string {
  return renderTemplate(template, { ...vars, content: `[content of ${vars.path}: ${chars} characters]` });
}
