// @ts-check
/**
 * TypeDoc settings for `npm run docs`: one markdown page per subpath of package.json's "exports", written
 * to docs/api/. The entry points come from the exports map (./dist/X.d.ts → src/X.ts), so a new subpath
 * gets its page without touching this file; its entry file's first doc comment names the page with
 * `@module iomux/<subpath>` (docs/api/iomux/<subpath>.md), as src/select/index.ts does.
 */
import { readFileSync } from 'node:fs';
import { OptionDefaults } from 'typedoc';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/** The source file behind each subpath's declaration file, in the order package.json lists them. */
const sources = Object.entries(pkg.exports)
  .filter(([subpath]) => subpath !== './package.json')
  .map(([subpath, target]) => ({ subpath, source: target.types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts') }));
// The root re-exports every subpath: listed last, so each declaration is documented on its subpath's page
// and the root page links there.
const entryPoints = [...sources.filter((s) => s.subpath !== '.'), ...sources.filter((s) => s.subpath === '.')].map((s) => s.source);

/** @type {Partial<import('typedoc').TypeDocOptions & import('typedoc-plugin-markdown').PluginOptions>} */
const config = {
  entryPoints,
  tsconfig: 'tsconfig.json',
  plugin: ['typedoc-plugin-markdown', './scripts/typedoc-iomux.mjs'],
  blockTags: [...OptionDefaults.blockTags, '@python'],
  out: 'docs/api',
  readme: 'none',
  disableSources: true,
  excludePrivate: true,
  excludeInternal: true,
  excludeExternals: true,
  // Internal interfaces a public class implements or a protected member takes: named, not documented.
  intentionallyNotExported: ['PollerMember', 'MirrorPoller', 'ReadyVisitor'],
  outputFileStrategy: 'modules',
  hideBreadcrumbs: true,
  hidePageHeader: true,
  useCodeBlocks: true,
  expandParameters: true,
  parametersFormat: 'table',
  interfacePropertiesFormat: 'table',
  classPropertiesFormat: 'table',
  typeDeclarationFormat: 'table',
  sort: ['kind', 'alphabetical'],
};
export default config;
