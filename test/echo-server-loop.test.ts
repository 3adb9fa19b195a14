import { describeBackend } from './echo-server-harness.js';

// --driver loop: the default backend's selector attached to Node's event loop instead of a blocking loop.
describeBackend({ title: '--driver loop (DefaultSelector attached to the event loop)', args: ['--driver', 'loop'], selectLimited: false });
