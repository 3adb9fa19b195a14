import { describeBackend } from './echo-server-harness.js';

describeBackend({ title: '--backend default (DefaultSelector, callbacks)', args: ['--backend', 'default'], selectLimited: false });
