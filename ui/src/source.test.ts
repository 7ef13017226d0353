// Static guarantees about the UI source: the rules that keep server text from becoming code,
// and an import graph without cycles.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = __dirname;
function sources(dir: string, tests = false): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name), tests)
      : /\.ts$/.test(e.name) && (tests || !/\.test\.ts$/.test(e.name))
        ? [join(dir, e.name)]
        : [],
  );
}
const read = (path: string) => ({ path: relative(root, path), text: readFileSync(path, "utf8") });
const files = sources(root).map(read);

/**
 * The modules under ui/src that `path` imports or re-exports, relative to ui/src: `import … from`
 * (type-only imports too: a cycle of types still ties two modules together), `export … from`,
 * side-effect and dynamic imports, as TypeScript's own pre-processor reads them (so nothing in
 * a comment or a string counts). Packages and non-TypeScript files (styles.css) are not edges.
 */
function relativeImports(path: string, text: string): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((specifier) => specifier.startsWith("./") || specifier.startsWith("../"))
    .flatMap((specifier) => {
      const base = join(dirname(path), specifier);
      const target = [`${base}.ts`, join(base, "index.ts"), base].find((candidate) => existsSync(join(root, candidate)));
      if (target === undefined) throw new Error(`${path}: cannot resolve "${specifier}"`);
      return target.endsWith(".ts") ? [target] : [];
    });
}

/** The first cycle found in `graph` (module → the modules it imports), as a path a → … → a. */
function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | null {
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    const open = stack.indexOf(node);
    if (open >= 0) return [...stack.slice(open), node];
    if (done.has(node)) return null;
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    done.add(node);
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

describe("UI source rules", () => {
  it("never builds markup from strings", () => {
    const html = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser)\b|\beval\(|new Function\(/;
    // dom.ts names innerHTML/outerHTML only to refuse them.
    const offenders = files.filter((f) => f.path !== "dom.ts" && html.test(f.text)).map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it("only ipc.ts talks to Tauri (the fake backend used by tests aside)", () => {
    const tauri = /@tauri-apps\/api/;
    const offenders = files
      .filter((f) => tauri.test(f.text) && f.path !== "ipc.ts" && !f.path.startsWith("testing/"))
      .map((f) => f.path);
    expect(offenders).toEqual([]);
    const shipped = files.filter((f) => !f.path.startsWith("testing/"));
    expect(shipped.filter((f) => /\b(invoke|listen)\s*[<(]/.test(f.text)).map((f) => f.path)).toEqual(["ipc.ts"]);
  });

  it("uses no physical left/right CSS, so right-to-left layouts mirror", () => {
    // Comments may say "left" and "right" freely.
    const css = readFileSync(join(root, "styles.css"), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
    const physical =
      css.match(
        /(^|[\s;{])(margin|padding|border|scroll-margin|scroll-padding)-(left|right)\b|border-(top|bottom)-(left|right)-radius|text-align:\s*(left|right)|(float|clear):\s*(left|right)|(^|[\s;{])(left|right):/gm,
      ) ?? [];
    expect(physical).toEqual([]);
    // Where a physical value cannot be avoided (a background position), the rule has an
    // [dir="rtl"] twin.
    const rules = css.match(/[^{}]+\{[^}]*background-position:[^;]*\b(left|right)\b[^}]*\}/g) ?? [];
    const selectors = rules.map((rule) => rule.slice(0, rule.indexOf("{")).trim());
    for (const selector of selectors.filter((s) => !s.startsWith('[dir="rtl"]'))) {
      expect(selectors, `${selector} needs a [dir="rtl"] twin`).toContain(`[dir="rtl"] ${selector}`);
    }
  });

  it("has no import cycles: a page imports the context, never the window that imports the pages", () => {
    const graph = new Map(
      sources(root, true)
        .map(read)
        .map((f) => [f.path, relativeImports(f.path, f.text)] as const),
    );
    // The parser sees the edges that are there (multi-line and type-only imports included)…
    expect(graph.get("app.ts")).toEqual(expect.arrayContaining(["context.ts", "pages/accounts.ts", "types.ts"]));
    expect(graph.get("pages/accounts.ts")).toEqual(expect.arrayContaining(["context.ts", "types.ts"]));
    expect(graph.get("ipc.ts")).toContain("types.ts");
    // …and the graph has no way back to where it started.
    expect(findCycle(graph)?.join(" → ") ?? null).toBeNull();
  });

  it("the cycle check reads type-only and multi-line imports, skips comments and finds a cycle", () => {
    const text = [
      'import { h } from "../dom";',
      "import type {",
      "  Context,",
      '} from "../context";',
      '// import { App } from "../app";',
      'import "../styles.css";',
      'const catalogs = import.meta.glob("../../locales/*/pushmail.ftl");',
    ].join("\n");
    expect(relativeImports("pages/x.ts", text)).toEqual(["dom.ts", "context.ts"]);
    const graph = new Map([
      ["app.ts", ["context.ts", "pages/a.ts"]],
      ["pages/a.ts", ["dom.ts", "app.ts"]],
      ["context.ts", []],
      ["dom.ts", []],
    ]);
    expect(findCycle(graph)).toEqual(["app.ts", "pages/a.ts", "app.ts"]);
    expect(findCycle(new Map([["a.ts", ["b.ts"]], ["b.ts", []]]))).toBeNull();
  });
});
