import { describeBackend } from './echo-server-harness.js';

describeBackend({ title: '--backend epoll', args: ['--backend', 'epoll'], selectLimited: false });
