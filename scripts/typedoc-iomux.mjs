// @ts-check
/**
 * iomux's TypeDoc plugin, for docs/api/:
 * - `@python select.epoll.poll` in a doc comment becomes a link to the Python documentation of what the
 *   function follows (test/docs-api.test.ts checks each name exists in the local python3);
 * - the platform constants (POLLIN, AF_INET, …: their values are the running platform's, so no page can
 *   show them) are grouped by family, each with its family's description unless it has its own;
 * - inherited members are documented once, on the class that declares them (the Python docs' way), so an
 *   error class or a selector page shows what it adds and links to its base.
 */
import { Comment, CommentTag, Converter, ReflectionKind } from 'typedoc';

/** The docs.python.org page documenting a dotted Python name. */
export function pythonDocsUrl(name) {
  const top = name.split('.')[0];
  const page = top === 'asyncio' ? 'asyncio-eventloop' : /^[A-Z]/.test(top) ? 'exceptions' : top;
  return `https://docs.python.org/3/library/${page}.html#${name}`;
}

const PY = 'https://docs.python.org/3/library/';
/** Constant families: name pattern, group title, and the description each member gets. */
const CONSTANT_GROUPS = [
  [/^POLL/, 'poll constants', `A \`poll(2)\` event bit (Python: \`select.POLL…\`, [polling objects](${PY}select.html#polling-objects)).`],
  [/^EPOLL/, 'epoll constants', `An epoll event bit or flag, Linux's value (Python: \`select.EPOLL…\`, [epoll objects](${PY}select.html#edge-and-level-trigger-polling-epoll-objects)).`],
  [/^KQ_/, 'kqueue constants', `A kqueue filter, flag or note, the platform's \`<sys/event.h>\` value (libkqueue's on Linux) (Python: \`select.KQ_…\`, [kevent objects](${PY}select.html#kevent-objects)).`],
  [/^(FD_SETSIZE|PIPE_BUF)$/, 'limits', ''],
  [/^(AI|NI|EAI)_/, 'getaddrinfo constants', `A \`getaddrinfo(3)\`/\`getnameinfo(3)\` flag, limit or error code, the platform's value (Python: [socket constants](${PY}socket.html#constants)).`],
  [/^(AF_NETLINK|AF_PACKET|NETLINK_|PACKET_|ETH_P_)/, 'netlink and packet constants', `A netlink protocol or packet type, Linux's value (Python: [socket constants](${PY}socket.html#constants)).`],
  [/^(AF|SOCK|SOL|SO|IPPROTO|IPV6|TCP|SHUT|MSG|SCM|INADDR)_|^SOMAXCONN$/, 'socket constants', `A socket family, type, option, flag or address, the platform's value (Python: [socket constants](${PY}socket.html#constants)).`],
  [/^(TFD|CLOCK)_/, 'timerfd constants', `A \`timerfd_create(2)\` flag or clock, Linux's value (Python: \`os.TFD_…\`, \`time.CLOCK_…\`).`],
  [/^EVENT_/, 'selector events', ''],
];

/** Gives an undocumented platform constant its family's description, and every constant its family's group. */
function groupConstant(reflection) {
  if (!reflection.kindOf(ReflectionKind.Variable) || !/^[A-Z][A-Z0-9_]+$/.test(reflection.name)) return;
  const family = CONSTANT_GROUPS.find(([re]) => re.test(reflection.name));
  if (!family) return;
  const [, group, summary] = family;
  reflection.comment ??= new Comment(summary ? [{ kind: 'text', text: summary }] : []);
  if (!reflection.comment.getTag('@group')) reflection.comment.blockTags.push(new CommentTag('@group', [{ kind: 'text', text: group }]));
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    // A comment may be shared (a reflection and its signature): each tag is rewritten once.
    const linked = new WeakSet();
    const project = context.project;
    for (const reflection of Object.values(project.reflections)) {
      if ('inheritedFrom' in reflection && reflection.inheritedFrom && reflection.kindOf(ReflectionKind.ClassMember)) {
        project.removeReflection(reflection);
        continue;
      }
      groupConstant(reflection);
      for (const comment of commentsOf(reflection)) {
        for (const tag of comment.blockTags) {
          if (tag.tag !== '@python' || linked.has(tag)) continue;
          linked.add(tag);
          const name = tag.content.map((p) => p.text).join('').trim();
          if (!/^[\w.]+$/.test(name)) throw new Error(`@python takes a dotted Python name, not "${name}" (${reflection.getFullName()})`);
          tag.content = [{ kind: 'text', text: `[\`${name}\`](${pythonDocsUrl(name)})` }];
        }
      }
    }
  });
}

/** The comments of a reflection and of its signatures. */
function commentsOf(reflection) {
  const out = new Set();
  if (reflection.comment) out.add(reflection.comment);
  for (const sig of reflection.signatures ?? []) if (sig.comment) out.add(sig.comment);
  for (const sig of [reflection.getSignature, reflection.setSignature]) if (sig?.comment) out.add(sig.comment);
  return out;
}
