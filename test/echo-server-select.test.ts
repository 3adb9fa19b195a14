import { describeBackend } from './echo-server-harness.js';

describeBackend({ title: '--backend select', args: ['--backend', 'select'], selectLimited: true });
