import { readStructuredFile } from '../config/index.ts';
import { FleetError } from '../core/errors.ts';
import { isRecord } from '../core/objects.ts';
import { checkTemplate } from './template.ts';

/** One prompt of a preset. Values left out fall back to the preset's, then to the command's flags. */
export interface PromptSpec {
  /** Short name, used for Markdown section titles and `--jsonl` lines. */
  name: string;
  /** The template; placeholders `{filename}`, `{content}`, `{path}`, `{title}`. */
  template: string;
  system?: string;
  maxTokens?: number;
  temperature?: number;
}

export interface Preset {
  name: string;
  description: string;
  /** Shared by every prompt of the preset (sent as the system message, before the document). */
  system?: string;
  maxTokens?: number;
  temperature?: number;
  prompts: PromptSpec[];
}

const RESEARCH_SYSTEM =
  'You are a careful research assistant. Answer from the document only; say so when it does not tell.';

/**
 * The older tool's presets, with its intents. Every template puts `{content}` first, so the
 * document is the shared prefix of all prompts over it (the worker's prefix cache serves it once).
 */
export const BUILTIN_PRESETS: Record<string, Preset> = {
  research: {
    name: 'research',
    description: 'research question, methodology, key findings, limitations, future directions',
    system: RESEARCH_SYSTEM,
    prompts: [
      {
        name: 'research question',
        template: '{content}\n\nWhat is the main research question of this paper?',
      },
      { name: 'methodology', template: '{content}\n\nDescribe the methodology used in this paper.' },
      { name: 'key findings', template: '{content}\n\nWhat are the key findings and results?' },
      {
        name: 'limitations',
        template: '{content}\n\nWhat limitations do the authors acknowledge, or which do you see?',
      },
      {
        name: 'future directions',
        template: '{content}\n\nWhat future research directions does this paper suggest?',
      },
    ],
  },
  summary: {
    name: 'summary',
    description: 'concise summary, main points, central argument',
    system: RESEARCH_SYSTEM,
    prompts: [
      { name: 'summary', template: '{content}\n\nWrite a concise summary of this document (one paragraph).' },
      {
        name: 'main points',
        template: '{content}\n\nList the main points of this document as bullet points.',
      },
      {
        name: 'central argument',
        template: '{content}\n\nWhat is the central argument or thesis of this document?',
      },
    ],
  },
  analysis: {
    name: 'analysis',
    description: 'strengths and weaknesses, contribution to the field, innovative approaches',
    system: RESEARCH_SYSTEM,
    prompts: [
      {
        name: 'strengths and weaknesses',
        template: '{content}\n\nWhat are the strengths and weaknesses of this work?',
      },
      { name: 'contribution', template: '{content}\n\nWhat does this work contribute to its field?' },
      {
        name: 'innovation',
        template: '{content}\n\nWhich approaches or ideas in this work are innovative, and why?',
      },
    ],
  },
  review: {
    name: 'review',
    description: "a peer reviewer's view: summary for the editor, major concerns, questions for the authors",
    system: 'You are an expert peer reviewer. Be specific and cite sections of the document.',
    prompts: [
      {
        name: 'summary for the editor',
        template: '{content}\n\nSummarise this submission for the editor in 3-5 sentences.',
      },
      {
        name: 'major concerns',
        template: '{content}\n\nList the major concerns a reviewer should raise, most serious first.',
      },
      { name: 'questions', template: '{content}\n\nWhat questions should the authors answer in a revision?' },
    ],
  },
};

/** The prompts of `-p` templates, named `prompt 1`, `prompt 2`, ... */
export function promptsFromTemplates(templates: string[]): PromptSpec[] {
  return templates.map((template, i) => {
    checkTemplate(template, `-p/--prompt #${i + 1}`);
    return { name: `prompt ${i + 1}`, template };
  });
}

/** Finds a preset by name among the user's (which win) and the built-in ones; lists them when unknown. */
export function findPreset(name: string, user: Record<string, Preset> = {}): Preset {
  const all = { ...BUILTIN_PRESETS, ...user };
  const preset = all[name];
  if (preset === undefined) {
    const list = Object.values(all)
      .map((p) => `  ${p.name}: ${p.description}`)
      .join('\n');
    throw new FleetError('FLEET_INPUT_INVALID', `--preset: unknown preset "${name}"; presets:\n${list}`);
  }
  return preset;
}

function fail(file: string, path: string, expected: string, got: unknown): never {
  const shown =
    typeof got === 'string' ? JSON.stringify(got) : got === undefined ? 'nothing' : JSON.stringify(got);
  throw new FleetError('FLEET_INPUT_INVALID', `${file}: ${path}: expected ${expected}, got ${shown}`);
}

const PRESET_KEYS = new Set(['description', 'system', 'max_tokens', 'temperature', 'prompts']);
const PROMPT_KEYS = new Set(['name', 'template', 'prompt', 'system', 'max_tokens', 'temperature']);

function settings(
  o: Record<string, unknown>,
  file: string,
  path: string,
): Pick<PromptSpec, 'system' | 'maxTokens' | 'temperature'> {
  const out: Pick<PromptSpec, 'system' | 'maxTokens' | 'temperature'> = {};
  const { system, max_tokens: maxTokens, temperature } = o;
  if (system !== undefined) {
    if (typeof system !== 'string') fail(file, `${path}.system`, 'a string', system);
    out.system = system;
  }
  if (maxTokens !== undefined) {
    if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1)
      fail(file, `${path}.max_tokens`, 'an integer >= 1', maxTokens);
    out.maxTokens = maxTokens;
  }
  if (temperature !== undefined) {
    if (typeof temperature !== 'number' || temperature < 0 || temperature > 2)
      fail(file, `${path}.temperature`, 'a number from 0 to 2', temperature);
    out.temperature = temperature;
  }
  return out;
}

/**
 * Parses a presets file's data: `{ presets: { NAME: { description?, system?, max_tokens?,
 * temperature?, prompts: [ "template" | { name?, template, system?, max_tokens?, temperature? } ] } } }`
 * (the `presets:` level may be left out). Errors name the file, the path and the value.
 */
export function parsePresets(data: unknown, file: string): Record<string, Preset> {
  const root = isRecord(data) && isRecord(data['presets']) ? data['presets'] : data;
  const base = root === data ? '' : 'presets.';
  if (!isRecord(root) || Object.keys(root).length === 0)
    fail(file, base || '(top level)', 'a map of preset names to presets', root);
  const out: Record<string, Preset> = {};
  for (const [name, raw] of Object.entries(root)) {
    const path = `${base}${name}`;
    if (!isRecord(raw)) fail(file, path, 'a preset: { prompts: [...] }', raw);
    for (const k of Object.keys(raw)) {
      if (!PRESET_KEYS.has(k)) fail(file, `${path}.${k}`, `one of ${[...PRESET_KEYS].join(', ')}`, k);
    }
    const prompts = raw['prompts'];
    if (!Array.isArray(prompts) || prompts.length === 0)
      fail(file, `${path}.prompts`, 'a non-empty list of prompts', prompts);
    const description = raw['description'] ?? `${prompts.length} prompts from ${file}`;
    if (typeof description !== 'string') fail(file, `${path}.description`, 'a string', description);
    out[name] = {
      name,
      description,
      ...settings(raw, file, path),
      prompts: prompts.map((p: unknown, i) => parsePrompt(p, file, `${path}.prompts[${i}]`, i)),
    };
  }
  return out;
}

function parsePrompt(p: unknown, file: string, path: string, i: number): PromptSpec {
  if (typeof p === 'string') {
    checkTemplate(p, `${file}: ${path}`);
    return { name: `prompt ${i + 1}`, template: p };
  }
  if (!isRecord(p)) fail(file, path, 'a template string or { template, ... }', p);
  for (const k of Object.keys(p)) {
    if (!PROMPT_KEYS.has(k)) fail(file, `${path}.${k}`, `one of ${[...PROMPT_KEYS].join(', ')}`, k);
  }
  const template = p['template'] ?? p['prompt'];
  if (typeof template !== 'string' || template.trim() === '')
    fail(file, `${path}.template`, 'a non-empty string', template);
  checkTemplate(template, `${file}: ${path}.template`);
  const name = p['name'] ?? `prompt ${i + 1}`;
  if (typeof name !== 'string') fail(file, `${path}.name`, 'a string', name);
  return { name, template, ...settings(p, file, path) };
}

/** Reads a YAML or JSON presets file (see parsePresets). */
export async function loadPresetsFile(file: string, cwd?: string): Promise<Record<string, Preset>> {
  return parsePresets(await readStructuredFile(file, cwd), file);
}
