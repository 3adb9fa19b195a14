import { describeBackend } from './echo-server-harness.js';

describeBackend({ title: '--backend uring', args: ['--backend', 'uring'], selectLimited: false, fixedPoolMiB: 16 });
