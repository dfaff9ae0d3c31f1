// A searchable picker of ISO 3166-1 countries (English and Khmer names, or
// the code), as an ARIA 1.2 combobox: type to filter, arrows to move,
// Enter to choose, Escape to close. The chosen code goes into a hidden
// input named `name` for forms read with FormData.
import { useId, useMemo, useState, type KeyboardEvent } from "react";
import { countries } from "../i18n/countries";
import { useI18n } from "../i18n/i18n";

export function CountryPicker({
  label,
  name,
  value,
  defaultValue,
  onChange,
  required,
  optional,
  error,
  hint,
}: {
  label: string;
  name?: string;
  value?: string;
  defaultValue?: string;
  onChange?: (code: string) => void;
  required?: boolean;
  optional?: boolean;
  error?: string;
  hint?: string;
}) {
  const { t, locale } = useI18n();
  const id = useId();
  const [own, setOwn] = useState(defaultValue ?? "");
  const code = (value ?? own).toUpperCase();
  const nameOf = (c: string) => {
    const row = countries.find((r) => r[0] === c);
    return row ? (locale === "km" ? row[2] : row[1]) : c;
  };
  const [text, setText] = useState<string | null>(null); // null: show the chosen country
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const matches = useMemo(() => {
    const q = (text ?? "").trim().toLowerCase();
    if (!q) return countries.slice();
    return countries.filter(
      ([c, en, km]) => c.toLowerCase() === q || en.toLowerCase().includes(q) || km.includes(q),
    ).sort((a, b) => {
      // An exact code first, then names starting with the words typed.
      const rank = (r: (typeof countries)[number]) =>
        r[0].toLowerCase() === q ? 0 : r[1].toLowerCase().startsWith(q) || r[2].startsWith(q) ? 1 : 2;
      return rank(a) - rank(b);
    });
  }, [text]);
  const choose = (c: string) => {
    setOwn(c);
    onChange?.(c);
    setText(null);
    setOpen(false);
  };
  const listId = `${id}-list`;
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setOpen(true);
      setActive((a) => Math.min(a + 1, matches.length - 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (e.key === "Enter" && open) {
      e.preventDefault();
      const m = matches[active];
      if (m) choose(m[0]);
    } else if (e.key === "Escape") {
      setOpen(false);
      setText(null);
    }
  };
  const shown = text ?? (code ? nameOf(code) : "");
  const describedBy = [hint ? hintId : "", error ? errId : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div className={error ? "field invalid combobox" : "field combobox"}>
      <label htmlFor={id}>{label}</label>
      {hint && (
        <span className="hint" id={hintId}>
          {hint}
        </span>
      )}
      {error && (
        <span className="field-error" id={errId}>
          {error}
        </span>
      )}
      <input
        id={id}
        role="combobox"
        aria-expanded={open}
        aria-controls={open ? listId : undefined}
        aria-autocomplete="list"
        aria-activedescendant={open && matches[active] ? `${id}-o-${matches[active][0]}` : undefined}
        aria-describedby={describedBy}
        aria-invalid={error ? true : undefined}
        autoComplete="off"
        required={required && !code}
        value={shown}
        placeholder={t("country.search")}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
          setActive(0);
          if (e.target.value === "" && optional) {
            setOwn("");
            onChange?.("");
          }
        }}
        onFocus={() => setOpen(false)}
        onBlur={() => {
          // Typed text that names exactly one country (its code, or its
          // whole name in either language) is taken; anything else is not.
          if (text !== null && text.trim() !== "") {
            const q = text.trim().toLowerCase();
            const exact = countries.find(([c, en, km]) => c.toLowerCase() === q || en.toLowerCase() === q || km === text.trim());
            const pick = exact ?? (matches.length === 1 ? matches[0] : undefined);
            if (pick) choose(pick[0]);
            else {
              setOwn("");
              onChange?.("");
            }
          }
          window.setTimeout(() => setOpen(false), 150);
        }}
        onKeyDown={onKey}
      />
      {name && <input type="hidden" name={name} value={code} />}
      {open && matches.length > 0 && (
      <ul id={listId} role="listbox" aria-label={label} className="combobox-list">
        {matches.slice(0, 60).map(([c], i) => (
            <li
              key={c}
              id={`${id}-o-${c}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? "active" : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                choose(c);
              }}
            >
              {nameOf(c)} <span className="muted">({c})</span>
            </li>
          ))}
      </ul>
      )}
    </div>
  );
}
