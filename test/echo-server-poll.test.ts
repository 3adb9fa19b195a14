import { describeBackend } from './echo-server-harness.js';

describeBackend({ title: '--backend poll', args: ['--backend', 'poll'], selectLimited: false });
