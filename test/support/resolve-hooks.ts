/**
 * A resolver for child nodes that refuses some imports, as `--import` arguments. Node ≥ 22.15 has the
 * synchronous `module.registerHooks`; `module.register`, the only form on Node 20, prints DEP0205 from Node 26,
 * which would land in the stderr the tests compare. `check` is the source of a function
 * `(specifier, parentURL) => Error | undefined`: the error is thrown for that import.
 */
export function importRefusing(check: string): string[] {
  const hookSource = (checkSource: string): string =>
    `const check = ${checkSource};\n` +
    'export function resolve(specifier, context, next) { const e = check(specifier, context.parentURL); if (e) throw e; return next(specifier, context); }';
  const loader = `import * as m from 'node:module';
    if (typeof m.registerHooks === 'function') {
      const check = ${check};
      m.registerHooks({ resolve(specifier, context, next) { const e = check(specifier, context.parentURL); if (e) throw e; return next(specifier, context); } });
    } else {
      m.register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hookSource(check))}));
    }`;
  return ['--import', `data:text/javascript,${encodeURIComponent(loader)}`];
}
