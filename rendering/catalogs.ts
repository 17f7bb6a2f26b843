import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { IntlMessageFormat } from "intl-messageformat";
import { boundedCache } from "../contract/bounded-cache.js";
import { catalogKeys, type MessageArguments, SAMPLE_ARGUMENTS } from "./message-keys.js";
import { SHIPPED_CATALOGS } from "./shipped-catalogs.js";

/** A catalog as written: message key → ICU MessageFormat text. */
export type CatalogSource = Record<string, string>;

/** One locale's messages, parsed once; `format` is pure. */
export interface Catalog {
  locale: string;
  format(key: string, args?: MessageArguments): string;
}

/** A catalog that cannot be used: names the file and the key, so the worker refuses to start. */
export class CatalogError extends Error {
  constructor(file: string, key: string | undefined, reason: string) {
    super(`${file}${key ? `: "${key}"` : ""}: ${reason}`);
    this.name = "CatalogError";
  }
}

/** The deployment's catalogs and its default locale. */
export interface Catalogs {
  defaultLocale: string;
  locales: string[];
  /** The catalog for a customer's locale: itself, then shorter or likely tags (fr-CA → fr), then the default. */
  resolve(locale: string | undefined): Catalog;
}

/**
 * Candidate catalog names for a tag, most specific first: `fr-CA` → fr-CA, fr;
 * `zh-CN` → zh-CN, zh, zh-Hans (its likely script); `pt` → pt, pt-BR (its likely region).
 */
export function fallbackChain(tag: string): string[] {
  const chain: string[] = [];
  const parts = tag.split("-");
  for (let length = parts.length; length > 0; length--)
    chain.push(parts.slice(0, length).join("-"));
  try {
    const likely = new Intl.Locale(tag).maximize();
    if (likely.script) chain.push(`${likely.language}-${likely.script}`);
    if (likely.region) chain.push(`${likely.language}-${likely.region}`);
  } catch {
    // not a tag Intl can expand: the truncations are all there is
  }
  return [...new Set(chain)];
}

function readDirectory(dir: string): Map<string, { file: string; source: CatalogSource }> {
  const found = new Map<string, { file: string; source: CatalogSource }>();
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith(".json")) continue;
    const file = join(dir, name);
    const tag = name.slice(0, -".json".length);
    let locale: string;
    try {
      locale = Intl.getCanonicalLocales(tag)[0] ?? "";
    } catch {
      throw new CatalogError(file, undefined, `"${tag}" is not a BCP 47 language tag`);
    }
    let source: unknown;
    try {
      source = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new CatalogError(file, undefined, `not valid JSON (${(error as Error).message})`);
    }
    if (typeof source !== "object" || source === null || Array.isArray(source)) {
      throw new CatalogError(file, undefined, "must be a JSON object of key → message");
    }
    found.set(locale, { file, source: source as CatalogSource });
  }
  return found;
}

/** Parses and test-formats every message of a merged catalog; throws naming file and key. */
function compileCatalog(
  locale: string,
  merged: CatalogSource,
  fileOf: (key: string) => string,
  keys: readonly string[],
): Catalog {
  const known = new Set(keys);
  for (const key of Object.keys(merged)) {
    if (!known.has(key)) throw new CatalogError(fileOf(key), key, "unknown key (a typo?)");
  }
  const formats = new Map<string, IntlMessageFormat>();
  for (const key of keys) {
    const text = merged[key];
    if (typeof text !== "string") {
      throw new CatalogError(fileOf(key), key, `missing (locale ${locale} has no message for it)`);
    }
    try {
      const format = new IntlMessageFormat(text, locale);
      const sample = format.format(SAMPLE_ARGUMENTS);
      if (typeof sample !== "string") throw new Error("must format to text (no rich-text tags)");
      formats.set(key, format);
    } catch (error) {
      throw new CatalogError(fileOf(key), key, (error as Error).message);
    }
  }
  return {
    locale,
    format(key, args = {}) {
      const format = formats.get(key);
      if (!format) throw new Error(`no message ${key}`);
      return String(format.format(args));
    },
  };
}

/**
 * Loads the shipped catalogs and, from `messagesDir`, the deployment's own: a file for a shipped
 * locale overrides its messages key by key; a file for another locale adds it, taking any key
 * it lacks from its parent (`fr-CA.json` needs only the keys that differ from `fr`). Every
 * message is parsed and formatted once here, so a broken catalog stops the process at start.
 */
export function loadCatalogs(options: {
  messagesDir?: string | undefined;
  defaultLocale: string;
  kinds?: readonly string[];
}): Catalogs {
  const keys = catalogKeys(options.kinds);
  const sources = new Map<string, { source: CatalogSource; files: Map<string, string> }>();
  for (const [locale, source] of Object.entries(SHIPPED_CATALOGS)) {
    const file = `messages/${locale}.json`;
    sources.set(locale, { source, files: new Map(Object.keys(source).map((k) => [k, file])) });
  }
  if (options.messagesDir) {
    for (const [locale, { file, source }] of readDirectory(options.messagesDir)) {
      const entry = sources.get(locale) ?? { source: {}, files: new Map<string, string>() };
      entry.source = { ...entry.source, ...source };
      for (const key of Object.keys(source)) entry.files.set(key, file);
      sources.set(locale, entry);
    }
  }
  const compiled = new Map<string, Catalog>();
  for (const [locale, entry] of sources) {
    // A locale inherits missing keys from its nearest loaded parent (fr-CA from fr).
    const parent = fallbackChain(locale)
      .slice(1)
      .find((candidate) => sources.has(candidate));
    const inherited = parent ? (sources.get(parent)?.source ?? {}) : {};
    const merged = { ...inherited, ...entry.source };
    const fileOf = (key: string) =>
      entry.files.get(key) ??
      (parent ? sources.get(parent)?.files.get(key) : undefined) ??
      `${options.messagesDir ?? "messages"}/${locale}.json`;
    compiled.set(locale, compileCatalog(locale, merged, fileOf, keys));
  }
  const fallback = compiled.get(options.defaultLocale);
  if (!fallback) {
    throw new CatalogError(
      "DEFAULT_LOCALE",
      undefined,
      `no catalog for "${options.defaultLocale}" (have ${[...compiled.keys()].join(", ")})`,
    );
  }
  const resolved = boundedCache<Catalog>(512);
  return {
    defaultLocale: options.defaultLocale,
    locales: [...compiled.keys()],
    resolve(locale) {
      if (!locale) return fallback;
      return resolved(locale, () => {
        const match = fallbackChain(locale).find((candidate) => compiled.has(candidate));
        return (match && compiled.get(match)) || fallback;
      });
    },
  };
}
