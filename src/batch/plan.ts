import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { JobIdentity } from './journal.ts';
import type { Fitted, LongDocMode } from './fit.ts';
import { renderTemplate, shownPrompt, type ResolvedPrompt, type TemplateVars } from './template.ts';

/** A document read and ready to be prompted. */
export interface DocumentInfo {
  /** As shown in output (`papers/a.pdf`). */
  file: string;
  abs: string;
  vars: Omit<TemplateVars, 'content'>;
  text: string;
  /** sha256 of the extracted text: a changed file gets new tasks, an unchanged one keeps its results. */
  hash: string;
}

/** One prompt over one document. */
export interface Task {
  id: string;
  doc: DocumentInfo;
  prompt: ResolvedPrompt;
  /** The prompt as the output shows it (the document's text elided unless --full-prompts). */
  shown: string;
  /** The document's text as sent: one part, or several (map-then-combine). */
  parts: string[];
  notice?: string;
  truncated: boolean;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function documentInfo(file: string, abs: string, text: string, title: string): DocumentInfo {
  return { file, abs, vars: { filename: basename(file), path: file, title }, text, hash: sha256(text) };
}

export interface JobSpec {
  /** `-i` values as given. */
  inputs: string[];
  extensions: string[];
  prompts: ResolvedPrompt[];
  sharedSystem: string | undefined;
  model: string | undefined;
  longDocs: LongDocMode;
  maxChars: number | undefined;
}

/**
 * The job's identity: a hash of what it asks (inputs, prompts with their system text, max tokens
 * and temperature, model, long-document handling). The documents' contents are hashed per task
 * instead (see taskId), so a re-run picks up new and changed files without starting over.
 */
export function jobIdentity(spec: JobSpec): JobIdentity {
  const facts: Record<string, unknown> = {
    inputs: spec.inputs,
    extensions: [...spec.extensions].sort(),
    prompts: spec.prompts.map((p) => ({
      template: p.template,
      system: p.system ?? null,
      max_tokens: p.maxTokens,
      temperature: p.temperature ?? null,
    })),
    system: spec.sharedSystem ?? null,
    model: spec.model ?? null,
    long_docs: spec.longDocs,
    max_chars: spec.maxChars ?? null,
  };
  return { id: sha256(JSON.stringify(facts)).slice(0, 32), facts };
}

/** A task's identity: the job, the document (path and content) and the prompt. */
export function taskId(jobId: string, doc: DocumentInfo, promptIndex: number): string {
  return sha256(`${jobId}\n${doc.file}\n${doc.hash}\n${promptIndex}`).slice(0, 32);
}

/** Every prompt over every document, document by document (all prompts of a document together). */
export function planTasks(
  jobId: string,
  docs: DocumentInfo[],
  prompts: ResolvedPrompt[],
  fit: (doc: DocumentInfo) => Fitted,
  fullPrompts = false,
): Task[] {
  const tasks: Task[] = [];
  for (const doc of docs) {
    const fitted = fit(doc);
    for (const prompt of prompts) {
      tasks.push({
        id: taskId(jobId, doc, prompt.index),
        doc,
        prompt,
        shown: fullPrompts
          ? renderTemplate(prompt.template, { ...doc.vars, content: doc.text })
          : shownPrompt(prompt.template, doc.vars, doc.text.length),
        parts: fitted.parts,
        ...(fitted.notice === undefined ? {} : { notice: fitted.notice }),
        truncated: fitted.truncated,
      });
    }
  }
  return tasks;
}
