import type { StepRecord } from './types.js';

/** Marks a step (or a service's start or stop) as failed, with the message as its error annotation. */
export function failRecord(record: StepRecord, message: string): void {
  record.outcome = 'failure';
  record.conclusion = 'failure';
  record.error = message;
  record.annotations.push({ level: 'error', message });
}
