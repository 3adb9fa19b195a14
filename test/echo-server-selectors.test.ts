import { describeBackend } from './echo-server-harness.js';

// The callback loop on another selector class than `default` already covers (DefaultSelector is epoll).
describeBackend({ title: '--backend selectors --selector poll', args: ['--backend', 'selectors', '--selector', 'poll'], selectLimited: false });
