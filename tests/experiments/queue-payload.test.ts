/**
 * What travels through the queue, without Redis: a planned run's job is accepted under its
 * run key only; a malformed payload is refused with every problem named; Redis URLs are read
 * or refused (exit 2) naming --queue. The queue's processes are tested in queue-faults.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { PricelabError } from '../../core/errors.js';
import { planExperiment } from '../../experiments/experiment-file.js';
import { displayUrl, parseRedisUrl } from '../../experiments/queue/connection.js';
import { calvanoSessionKey, checkJobPayload, experimentRunJob, jobIdOf } from '../../experiments/queue/job-payload.js';
import { workerNameOf } from '../../experiments/queue/submitter.js';

const plan = planExperiment({ name: 'payload', scenarios: ['steady-state-v1'], agents: [{ kind: 'thompson' }], seeds: [1, 2], budget: { episodes: 1 } });
const run = plan.runs[0]!;
const job = experimentRunJob(run, plan.scenarios[0]!.bytes);

describe('job payloads', () => {
  it("a planned run's job is accepted under its run key, and its id is the run key", () => {
    expect(jobIdOf(job)).toBe(run.id);
    const checked = checkJobPayload(run.id, JSON.parse(JSON.stringify(job)));
    expect(checked.ok).toBe(true);
    expect(Buffer.from(job.scenarioBytes, 'base64')).toEqual(Buffer.from(plan.scenarios[0]!.bytes));
  });

  it('the same payload under another id (another run, or an edited payload) is refused', () => {
    expect(checkJobPayload(plan.runs[1]!.id, job)).toEqual({ ok: false, reason: `malformed job payload: the job id ${plan.runs[1]!.id} is not the content hash of its run (${run.id})` });
    const edited = { ...job, run: { ...job.run, seed: 99 } };
    expect(checkJobPayload(run.id, edited)).toMatchObject({ ok: false, reason: expect.stringContaining('is not the content hash of its run') });
  });

  it('a malformed payload is refused with every problem named', () => {
    const checked = checkJobPayload(run.id, { ...job, run: { ...job.run, seed: 'one', budget: { weeks: 2 } }, scenarioBytes: '%%%', extra: 1 });
    expect(checked.ok).toBe(false);
    const reason = checked.ok ? '' : checked.reason;
    expect(reason).toMatch(/^malformed job payload \(\d+ problems\): /);
    for (const path of ['run.seed', 'run.budget', 'scenarioBytes', '(root)']) expect(reason).toContain(path);
    expect(checkJobPayload(run.id, 'text')).toMatchObject({ ok: false, reason: expect.stringContaining('malformed job payload') });
  });

  it("a Calvano session's key depends on its config, scenario and seed", () => {
    const key = calvanoSessionKey({ alpha: 0.15 }, 'a'.repeat(64), 1);
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(calvanoSessionKey({ alpha: 0.15 }, 'a'.repeat(64), 1)).toBe(key);
    expect(new Set([calvanoSessionKey({ alpha: 0.1 }, 'a'.repeat(64), 1), calvanoSessionKey({ alpha: 0.15 }, 'b'.repeat(64), 1), calvanoSessionKey({ alpha: 0.15 }, 'a'.repeat(64), 2), key]).size).toBe(4);
  });
});

describe('Redis URLs', () => {
  it('reads host, port, database and credentials', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6390/2')).toEqual({ host: '127.0.0.1', port: 6390, db: 2, tls: false });
    expect(parseRedisUrl('rediss://user:p%40ss@queue.example:7000')).toEqual({ host: 'queue.example', port: 7000, db: 0, username: 'user', password: 'p@ss', tls: true });
    expect(parseRedisUrl('redis://queue')).toMatchObject({ port: 6379, db: 0 });
    expect(displayUrl('redis://:secret@queue:6379/1')).toBe('redis://:***@queue:6379/1');
  });

  it.each([['http://queue:6379'], ['queue:6379'], ['redis://queue:6379/x'], ['redis://queue:6379/16'], ['not a url']])('refuses %s, naming --queue', (url) => {
    let caught: unknown;
    try {
      parseRedisUrl(url);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PricelabError);
    expect((caught as PricelabError).kind).toBe('config');
    expect((caught as PricelabError).problems[0]?.path).toEqual(['--queue']);
  });

  it("names a worker by BullMQ's client name", () => {
    expect(workerNameOf({ name: 'runs', rawname: 'pricelab:cnVucw==:w:host-1:42' })).toBe('host-1:42');
    expect(workerNameOf({ name: 'w' })).toBe('w');
  });
});
