/**
 * The catalogs shipped with the service, one JSON file per locale in messages/. Imported (not
 * read from disk) so the compiler copies them into the build and the image needs no extra step.
 */
import de from "../messages/de.json" with { type: "json" };
import en from "../messages/en.json" with { type: "json" };
import es from "../messages/es.json" with { type: "json" };
import fr from "../messages/fr.json" with { type: "json" };
import ja from "../messages/ja.json" with { type: "json" };
import ko from "../messages/ko.json" with { type: "json" };
import ptBR from "../messages/pt-BR.json" with { type: "json" };
import tr from "../messages/tr.json" with { type: "json" };
import vi from "../messages/vi.json" with { type: "json" };
import zhHans from "../messages/zh-Hans.json" with { type: "json" };

/** Locale → catalog; the keys are canonical BCP 47 tags. */
export const SHIPPED_CATALOGS: Record<string, Record<string, string>> = {
  en,
  es,
  "pt-BR": ptBR,
  tr,
  ja,
  ko,
  "zh-Hans": zhHans,
  de,
  fr,
  vi,
};
