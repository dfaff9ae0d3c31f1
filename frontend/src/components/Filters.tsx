// A filter form whose values live in the URL's query, so a filtered list
// can be bookmarked and shared. Submitting starts again at the first page.
import type { FormEvent, ReactNode } from "react";
import { useSearchParams } from "react-router";
import { useI18n } from "../i18n/i18n";

export function useFilters<K extends string>(keys: readonly K[]): Record<K, string> {
  const [params] = useSearchParams();
  const out = {} as Record<K, string>;
  for (const k of keys) out[k] = params.get(k) ?? "";
  return out;
}

export function FilterForm({ label, children }: { label: string; children: ReactNode }) {
  const { t } = useI18n();
  const [, setParams] = useSearchParams();
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(e.currentTarget)) {
      if (typeof v === "string" && v.trim() !== "") next.set(k, v.trim());
    }
    setParams(next);
  };
  return (
    <form className="filters" role="search" aria-label={label} onSubmit={submit}>
      {children}
      <button type="submit" className="btn">
        {t("filters.apply")}
      </button>
    </form>
  );
}

/** Drops empty values, so they are not sent as query parameters. */
export function compact<T extends Record<string, string | number | undefined>>(q: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(q) as [keyof T, T[keyof T]][]) {
    if (v !== "" && v !== undefined) out[k] = v;
  }
  return out;
}
