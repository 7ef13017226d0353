// Static guarantees about the UI source: the rules that keep server text from becoming code.

import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

import { describe, expect, it } from "vitest";

const root = __dirname;
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}
const files = sources(root).map((path) => ({ path: relative(root, path), text: readFileSync(path, "utf8") }));

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
});
