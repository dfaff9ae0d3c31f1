// Translations and locale-aware formatting. Every string the app shows is a
// key of en.json; km.json must have every key (scripts/i18n.test.mjs checks
// it in `make test`, and the type below makes a missing key a compile error).
// Khmer is loaded only when chosen, so English users do not download it.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import en from "./en.json";

export type MessageKey = keyof typeof en;
export type Messages = Record<MessageKey, string>;
export type Locale = "en" | "km";
export const locales: readonly Locale[] = ["en", "km"];

const intlLocale: Record<Locale, string> = { en: "en-GB", km: "km-KH" };
const storageKey = "casebridge.locale";

async function load(locale: Locale): Promise<Messages> {
  if (locale === "en") return en;
  const km: Messages = (await import("./km.json")).default;
  return km;
}

export type Vars = Record<string, string | number>;

export interface I18n {
  locale: Locale;
  setLocale: (l: Locale) => void;
  t: (key: MessageKey, vars?: Vars) => string;
  /** A date (YYYY-MM-DD or RFC 3339), shown as a calendar date. */
  date: (value: string | null | undefined) => string;
  /** A point in time, shown in the user's time zone. */
  dateTime: (value: string | null | undefined) => string;
  number: (n: number) => string;
  /** Looks up a key built at run time (an enum value); falls back to the raw value. */
  label: (prefix: string, value: string | null | undefined) => string;
}

/** The messages of the current language, for helpers outside components (fieldError). */
export let activeMessages: Record<string, string> = {};

function interpolate(s: string, vars?: Vars): string {
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

function initialLocale(): Locale {
  const saved = localStorage.getItem(storageKey);
  if (saved === "en" || saved === "km") return saved;
  return navigator.language.toLowerCase().startsWith("km") ? "km" : "en";
}

/** Whether this browser's Intl has data for the locale (some Chromium builds lack Khmer). */
export function intlSupports(tag: string): boolean {
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([tag]).length > 0;
  } catch {
    return false;
  }
}

/**
 * Date formatters for a locale: Intl where the browser has the locale's
 * data; else day, month name from the translations (date.month.N), year,
 * as CLDR writes Khmer dates ("22 វិច្ឆិកា 2026").
 */
function dateFormatters(tag: string, dict: Record<string, string>) {
  if (intlSupports(tag)) {
    const dateFmt = new Intl.DateTimeFormat(tag, { dateStyle: "medium", timeZone: "UTC" });
    const dateTimeFmt = new Intl.DateTimeFormat(tag, { dateStyle: "medium", timeStyle: "short" });
    return { date: (d: Date) => dateFmt.format(d), dateTime: (d: Date) => dateTimeFmt.format(d) };
  }
  const month = (m: number) => dict[`date.month.${m + 1}`] ?? String(m + 1);
  const pad = (n: number) => String(n).padStart(2, "0");
  return {
    date: (d: Date) => `${d.getUTCDate()} ${month(d.getUTCMonth())} ${d.getUTCFullYear()}`,
    dateTime: (d: Date) =>
      `${d.getDate()} ${month(d.getMonth())} ${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}`,
  };
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  const [messages, setMessages] = useState<Messages | null>(locale === "en" ? en : null);

  useEffect(() => {
    let live = true;
    void load(locale).then((m) => {
      if (live) setMessages(m);
    });
    document.documentElement.lang = locale;
    return () => {
      live = false;
    };
  }, [locale]);

  const setLocale = useCallback((l: Locale) => {
    localStorage.setItem(storageKey, l);
    setLocaleState(l);
  }, []);

  const value = useMemo<I18n | null>(() => {
    if (!messages) return null;
    const tag = intlLocale[locale];
    const dict: Record<string, string> = messages;
    activeMessages = dict;
    const { date, dateTime } = dateFormatters(tag, dict);
    const numberFmt = new Intl.NumberFormat(tag);
    return {
      locale,
      setLocale,
      t: (key, vars) => interpolate(messages[key], vars),
      date: (v) => {
        if (!v) return "—";
        const d = new Date(v.length === 10 ? `${v}T00:00:00Z` : v);
        return Number.isNaN(d.getTime()) ? v : date(d);
      },
      dateTime: (v) => {
        if (!v) return "—";
        const d = new Date(v);
        return Number.isNaN(d.getTime()) ? v : dateTime(d);
      },
      number: (n) => numberFmt.format(n),
      label: (prefix, v) => {
        if (v === null || v === undefined || v === "") return "—";
        return dict[`${prefix}.${v}`] ?? v;
      },
    };
  }, [locale, messages, setLocale]);

  if (!value) return null; // Khmer is loading: a few kB, a moment.
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(I18nContext);
  if (!v) throw new Error("useI18n outside I18nProvider");
  return v;
}
