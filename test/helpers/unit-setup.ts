/**
 * Set-up of every unit test file. The unit files share their worker's modules (`isolate: false` in
 * vitest.config.ts: each file would otherwise import the source and the SDK again), so what a file changes for
 * itself must not reach the next: the SDK clients that aws-sdk-client-mock stubbed are given back after each file.
 */
import { afterAll } from 'vitest';
import { restoreAwsMocks } from './mock-aws.js';

afterAll(() => restoreAwsMocks());
